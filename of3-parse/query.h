/* query.h: a query file, validated, as plain structs (spec/data.md §1).
 *
 * Reads the OpenFold3 query format ({"queries": {name: {"chains": [...]}}}) and the two
 * AlphaFold3 dialects (the "alphafold3" input JSON with "dialect"/"version", and the AlphaFold
 * Server job list), mapping both onto the same structs. Everything is checked here, for the
 * whole file, before any query is built: a bad query fails the file. Messages name the query,
 * the chain (its index in the chain list and its ids) and the position. docs/QUERY.md is the
 * full accepted format and the dialect mapping; docs/DEVIATIONS.md lists where we are stricter
 * than OpenFold3. Not checked here: whether CCD codes exist (ccd.c) and SMILES syntax (smiles.c).
 */
#ifndef OF3_QUERY_H
#define OF3_QUERY_H

#include <cjson/cJSON.h>

#include "../common/error.h"

typedef enum {
	OF3_MOL_PROTEIN = 0,
	OF3_MOL_RNA = 1,
	OF3_MOL_DNA = 2,
	OF3_MOL_LIGAND = 3
} of3_mol_type_t;

typedef struct {
	int position; /* 1-based residue position in the sequence */
	char ccd[6];  /* replacement CCD code */
} of3_noncanonical_t;

typedef struct {
	of3_mol_type_t type;
	int index; /* position in the query's chain list (0-based), for messages */
	int n_ids;
	char **ids;     /* chain ids, one chain per id, in the order given */
	char *sequence; /* polymers: one-letter codes, upper case; NULL for ligands */
	int n_noncanonical;
	of3_noncanonical_t *noncanonical; /* sorted by position, positions unique and in range */
	char *ccd_code;                   /* ligand given by one CCD code, or NULL */
	char *smiles; /* ligand given by SMILES, or NULL (exactly one of the two) */
	int n_main_msa;
	char **main_msa_paths; /* as written (OpenFold3: relative to the working directory);
	                          AlphaFold3 paths already joined to the input file's directory */
	int n_paired_msa;
	char **paired_msa_paths;
	char *template_alignment_path; /* or NULL */
	int n_template_chain_ids;
	char **template_chain_ids;
} of3_chain_t;

typedef struct {
	char *name;
	int n_chains;
	of3_chain_t *chains;
	int use_msas, use_paired_msas, use_main_msas; /* query-level switches, default 1 */
	char *json; /* this query's JSON text (compact), carried into the bundle: the query object
	               (OpenFold3) or the whole input / the job (AlphaFold3 dialects) */
	int n_seeds;
	long long *seeds; /* this query's seeds, 0..2^32-1: the file's "seeds" (OpenFold3) or its
	                     job's "modelSeeds" (AlphaFold3 dialects); n_seeds 0 when none given */
} of3_query_t;

typedef struct {
	const char *dialect; /* "openfold3", "alphafold3" or "alphafold-server" */
	int n_queries;
	of3_query_t *queries; /* in file order */
	int n_seeds;
	long long *seeds; /* "seeds" (OpenFold3) or "modelSeeds" (AlphaFold3); may be 0. The
	                     AlphaFold Server form has seeds per job: see of3_query_t.seeds */
} of3_query_set_t;

/* Validates root (the whole file) and fills *qs, which the caller frees with
 * of3_query_set_free() after success; on failure *qs is left empty. label is the file's path
 * as given ("-" or "stdin" for standard input): it starts every message, and relative *Path
 * fields of AlphaFold3 inputs are resolved against its directory (AlphaFold3's rule; OpenFold3
 * paths are relative to the working directory). MSA and template paths must exist.
 * OF3_ERR_INPUT with one message naming the query, chain and position of the first problem
 * ("query.json: query 'mcl1', chain 2 (ids F, G, H): ..."); OF3_ERR_NOMEM. */
int of3_query_set_parse(const cJSON *root, const char *label, of3_query_set_t *qs) OF3_WUR;
void of3_query_set_free(of3_query_set_t *qs);

/* "protein", "rna", "dna" or "ligand". */
const char *of3_query_mol_type_name(of3_mol_type_t type);

#endif
