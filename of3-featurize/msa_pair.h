/* msa_pair.h: online pairing of the MSAs of a heteromer by species (spec/data.md §6.5; the
 * AlphaFold-Multimer scheme as OpenFold3's create_paired does it).
 *
 * Each taking part representative brings the rows of its uniprot_hits MSA (row 0 its query).
 * A row's species is the 4th field of its header split at any of | _ / : - (UniProt headers
 * "tr|A0A1W9RZR3|A0A1W9RZR3_9BACT/19-121" give "9BACT"); rows with fewer fields have none and
 * are never paired. Rows are ranked by identity to row 0 (ties keep file order). Species found in
 * at least two chains and in no chain more than 600 times are paired: first those found in all
 * chains, then in one chain fewer, down to two; each species gives as many rows as its smallest
 * non-zero count, chains without it get gap rows; at most max_rows rows. */
#ifndef OF3_MSA_PAIR_H
#define OF3_MSA_PAIR_H

#include "msa_parse.h"

/* n_reps representatives; to_pair[i] the MSA of representative i to pair, or NULL when it takes
 * no part (not a protein, no uniprot_hits file, only its query row); n_cols[i] its width.
 * On return *n_paired is the number of paired rows (0: nothing to pair: fewer than two taking
 * part, or no species shared) and, when it is > 0, out[i] holds *n_paired rows for every
 * representative (all gaps, deletion 0, for those taking no part or lacking the species), with
 * no headers. Free each out[i] with of3_msa_free. */
int of3_msa_pair(int n_reps, const of3_msa_t *const *to_pair, const int64_t *n_cols,
                 int64_t max_rows, of3_msa_t *out, int64_t *n_paired) OF3_WUR;

/* The species of a header (pointer into it and length), or NULL when it has fewer than four
 * fields. */
const char *of3_msa_species(const char *header, size_t *len);

#endif
