/* query.h: a query file, validated, as plain structs (spec/data.md §1).
 *
 * Reads the OpenFold3 query format ({"queries": {name: {"chains": [...]}}}) and the two
 * AlphaFold3 dialects (the "alphafold3" input JSON with "dialect"/"version", and the AlphaFold
 * Server job list), mapping both onto the same structs. Everything is checked here, for the
 * whole file, before any query is built: a bad query fails the file. Messages name the query,
 * the chain (its index in the chain list and its ids) and the position. */
#ifndef OF3_QUERY_H
#define OF3_QUERY_H

#include <cjson/cJSON.h>

#include "../common/error.h"

typedef enum { OF3_MOL_PROTEIN = 0, OF3_MOL_RNA = 1, OF3_MOL_DNA = 2, OF3_MOL_LIGAND = 3 } of3_mol_type_t;

typedef struct {
	int position; /* 1-based residue position in the sequence */
	char ccd[6];  /* replacement CCD code */
} of3_noncanonical_t;

typedef struct {
	of3_mol_type_t type;
	int index;               /* position in the query's chain list (0-based), for messages */
	int n_ids;
	char **ids;              /* chain ids, one chain per id, in the order given */
	char *sequence;          /* polymers: one-letter codes, upper case; NULL for ligands */
	int n_noncanonical;
	of3_noncanonical_t *noncanonical; /* sorted by position, positions unique and in range */
	char *ccd_code;          /* ligand given by one CCD code, or NULL */
	char *smiles;            /* ligand given by SMILES, or NULL (exactly one of the two) */
	int n_main_msa;
	char **main_msa_paths;   /* as written in the query (relative to the working directory) */
	int n_paired_msa;
	char **paired_msa_paths;
	char *template_alignment_path;  /* or NULL */
	int n_template_chain_ids;
	char **template_chain_ids;
} of3_chain_t;

typedef struct {
	char *name;
	int n_chains;
	of3_chain_t *chains;
	int use_msas, use_paired_msas, use_main_msas; /* query-level switches, default 1 */
	char *json;              /* this query's JSON text (compact), carried into the bundle */
} of3_query_t;

typedef struct {
	const char *dialect;     /* "openfold3", "alphafold3" or "alphafold-server" */
	int n_queries;
	of3_query_t *queries;    /* in file order */
	int n_seeds;
	long long *seeds;        /* "seeds" (OpenFold3) or "modelSeeds" (AlphaFold3); may be 0 */
} of3_query_set_t;

/* Validates root (the whole file; label names it in messages) and fills *qs. OF3_ERR_INPUT
 * with a message naming query, chain and position on any problem. */
int of3_query_set_parse(const cJSON *root, const char *label, of3_query_set_t *qs) OF3_WUR;
void of3_query_set_free(of3_query_set_t *qs);

#endif
