/* test_parse_query.c: the query reader (of3-parse/query.c, query_af3.c) on the six example
 * queries, the AlphaFold3 dialects (tests/fixtures/queries_af3/) and every kind of bad input:
 * each bad case must give OF3_ERR_INPUT, a message naming the query, chain and position, and
 * an empty query set. Run from the repository root (the paths are relative to it). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../of3-parse/json_file.h"
#include "../of3-parse/query.h"
#include "check.h"

/* Test JSON is written with single quotes; this turns them into double quotes. */
static char *dq(const char *s)
{
	char *t = strdup(s);
	for (char *p = t; p && *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static int parse_text(const char *sq, of3_query_set_t *qs)
{
	char *text = dq(sq);
	cJSON *root = cJSON_Parse(text);
	free(text);
	memset(qs, 0, sizeof *qs);
	if (!root)
		return of3_err(OF3_ERR_RUNTIME, "the test's own JSON does not parse: %s", sq);
	int rc = of3_query_set_parse(root, "q.json", qs);
	cJSON_Delete(root);
	return rc;
}

static int parse_file(const char *path, of3_query_set_t *qs)
{
	cJSON *root = NULL;
	memset(qs, 0, sizeof *qs);
	int rc = of3_json_load(path, &root);
	if (rc == OF3_OK)
		rc = of3_query_set_parse(root, path, qs);
	cJSON_Delete(root);
	return rc;
}

/* One chain (single-quoted JSON) wrapped into {"queries": {"q": {"chains": [chain]}}}. */
static char *one_chain(const char *chain)
{
	static char buf[4096];
	snprintf(buf, sizeof buf, "{'queries': {'q': {'chains': [%s]}}}", chain);
	return buf;
}

static int contains_all(const char *msg, const char *const *want)
{
	for (int i = 0; want[i]; i++)
		if (!strstr(msg, want[i]))
			return 0;
	return 1;
}

/* A bad input: OF3_ERR_INPUT, every expected piece in the message, nothing left in qs. */
static void bad_rc(const char *what, int rc, of3_query_set_t *qs, const char *const *want)
{
	const char *msg = of3_errmsg();
	int empty = qs->n_queries == 0 && qs->queries == NULL && qs->seeds == NULL;
	CHECK(rc == OF3_ERR_INPUT && empty && contains_all(msg, want), "%s -> %s", what,
	      rc == OF3_OK ? "accepted" : msg);
	if (rc == OF3_OK)
		of3_query_set_free(qs);
}

static void bad_text(const char *what, const char *sq, const char *const *want)
{
	of3_query_set_t qs;
	bad_rc(what, parse_text(sq, &qs), &qs, want);
}

#define BAD(what, sq, ...)      bad_text(what, sq, (const char *const[]){__VA_ARGS__, NULL})
#define BAD_CHAIN(what, c, ...) BAD(what, one_chain(c), __VA_ARGS__)
#define BAD_FILE(what, p, ...)                                                                     \
	do {                                                                                       \
		of3_query_set_t qs_;                                                               \
		bad_rc(what, parse_file(p, &qs_), &qs_, (const char *const[]){__VA_ARGS__, NULL}); \
	} while (0)

static int same_ids(const of3_chain_t *c, const char *const *ids)
{
	int n = 0;
	while (ids[n])
		n++;
	if (c->n_ids != n)
		return 0;
	for (int i = 0; i < n; i++)
		if (strcmp(c->ids[i], ids[i]) != 0)
			return 0;
	return 1;
}
#define IDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static int starts(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---------------------------------------------------------------------------------------- */

static void test_examples(void)
{
	of3_query_set_t qs;
	int rc = parse_file("examples/query_ubiquitin.json", &qs);
	CHECK(rc == OF3_OK, "examples/query_ubiquitin.json parses%s%s", rc ? ": " : "",
	      rc ? of3_errmsg() : "");
	if (rc == OF3_OK) {
		const of3_query_t *q = &qs.queries[0];
		const of3_chain_t *c = &q->chains[0];
		CHECK(strcmp(qs.dialect, "openfold3") == 0 && qs.n_queries == 1 &&
		              strcmp(q->name, "ubiquitin") == 0 && q->n_chains == 1,
		      "ubiquitin: one query, one chain");
		CHECK(c->type == OF3_MOL_PROTEIN && same_ids(c, IDS("A")) &&
		              strcmp(c->sequence,
		                     "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQ"
		                     "LEDGRTLSDYNIQKESTLHLVLRLRGG") == 0 &&
		              strlen(c->sequence) == 76 && c->n_noncanonical == 0,
		      "ubiquitin: protein A, the 76 residues MQIFVKTLTG...LVLRLRGG");
		CHECK(q->use_msas && q->use_paired_msas && q->use_main_msas && qs.n_seeds == 0 &&
		              q->n_seeds == 0 && c->n_main_msa == 0 && !c->template_alignment_path,
		      "ubiquitin: MSA switches default to true, no seeds, no MSA paths");
		cJSON *back = q->json ? cJSON_Parse(q->json) : NULL;
		CHECK(back && cJSON_GetObjectItem(back, "chains") && !strchr(q->json, '\n'),
		      "ubiquitin: the query's compact JSON text parses back to the query object");
		cJSON_Delete(back);
		of3_query_set_free(&qs);
	}

	rc = parse_file("examples/query_homomer.json", &qs);
	CHECK(rc == OF3_OK && qs.n_queries == 1 &&
	              strcmp(qs.queries[0].name, "leucine_zipper") == 0 &&
	              qs.queries[0].n_chains == 1 &&
	              same_ids(&qs.queries[0].chains[0], IDS("A", "B")) &&
	              strcmp(qs.queries[0].chains[0].sequence,
	                     "XRMKQLEDKVEELLSKNYHLENEVARLKKLVGER") == 0,
	      "query_homomer.json: leucine_zipper, one protein entry with ids A, B, 34 residues "
	      "starting with X");
	if (rc == OF3_OK)
		of3_query_set_free(&qs);

	rc = parse_file("examples/query_multimer.json", &qs);
	CHECK(rc == OF3_OK, "examples/query_multimer.json parses");
	if (rc == OF3_OK) {
		const of3_query_t *q = &qs.queries[0];
		CHECK(strcmp(q->name, "7cnx") == 0 && q->n_chains == 2 &&
		              same_ids(&q->chains[0], IDS("A", "C")) &&
		              same_ids(&q->chains[1], IDS("B", "D")) &&
		              strlen(q->chains[0].sequence) == 253 &&
		              starts(q->chains[0].sequence, "MLNSFKLSLQ") &&
		              strcmp(q->chains[1].sequence,
		                     "XTVINLFAPGKVNLVEQLESLSVTKIGQPLAVSTGHHHHHHG") == 0 &&
		              q->chains[0].type == OF3_MOL_PROTEIN &&
		              q->chains[1].type == OF3_MOL_PROTEIN,
		      "7cnx: proteins (A, C) 253 residues and (B, D) 42 residues XTVIN...");
		of3_query_set_free(&qs);
	}

	const char *mcl1 =
	        "GDDELYRQSLEIISRYLREQATGAKDTKPMGRSGATSRKALETLRRVGDGVQRNHETAFQGMLRKLDIKN"
	        "EDDVKSLSRVMIHVFSDGVTNWGRIVTLISFGAFVAKHLKTINQESCIEPLAESITDVLVRTKRDWLVKQRG"
	        "WDGFVEFFHVEDLEGG";
	rc = parse_file("examples/query_protein_ligand.json", &qs);
	CHECK(rc == OF3_OK, "examples/query_protein_ligand.json parses");
	if (rc == OF3_OK) {
		const of3_query_t *q = &qs.queries[0];
		const of3_chain_t *c = q->chains;
		CHECK(strcmp(q->name, "mcl1") == 0 && q->n_chains == 3,
		      "mcl1: three chain entries");
		CHECK(c[0].type == OF3_MOL_PROTEIN && same_ids(&c[0], IDS("A", "B", "C", "D")) &&
		              strlen(mcl1) == 158 && strcmp(c[0].sequence, mcl1) == 0,
		      "mcl1: protein A-D, the 158-residue MCL1 sequence");
		CHECK(c[1].type == OF3_MOL_LIGAND && same_ids(&c[1], IDS("F", "G", "H")) &&
		              c[1].ccd_code && strcmp(c[1].ccd_code, "ATP") == 0 && !c[1].smiles &&
		              !c[1].sequence,
		      "mcl1: ligand F, G, H from the bare-string ccd_codes \"ATP\"");
		CHECK(c[2].type == OF3_MOL_LIGAND && same_ids(&c[2], IDS("Z")) && !c[2].ccd_code &&
		              c[2].smiles && strcmp(c[2].smiles, "CC(=O)OC1C[NH+]2CCC1CC2") == 0,
		      "mcl1: ligand Z from SMILES CC(=O)OC1C[NH+]2CCC1CC2");
		of3_query_set_free(&qs);
	}

	rc = parse_file("examples/query_protein_ligand_multiple.json", &qs);
	CHECK(rc == OF3_OK && qs.n_queries == 2, "query_protein_ligand_multiple.json: two queries");
	if (rc == OF3_OK) {
		const of3_query_t *a = &qs.queries[0], *b = &qs.queries[1];
		CHECK(strcmp(a->name, "mcl1_lig1") == 0 && strcmp(b->name, "mcl1_lig2") == 0 &&
		              a->n_chains == 3 && b->n_chains == 3,
		      "multiple: mcl1_lig1 then mcl1_lig2 (file order), three entries each");
		CHECK(strcmp(a->chains[0].sequence, mcl1) == 0 &&
		              strcmp(b->chains[0].sequence, mcl1) == 0 &&
		              strcmp(a->chains[1].ccd_code, "ATP") == 0 &&
		              strcmp(b->chains[1].ccd_code, "ATP") == 0 &&
		              strcmp(a->chains[2].smiles, "CC(=O)OC1C[NH+]2CCC1CC2") == 0 &&
		              strcmp(b->chains[2].smiles, "O=C([O-])c1cc2ccccc2s1") == 0,
		      "multiple: same protein and ATP, SMILES ligands differ "
		      "(O=C([O-])c1cc2ccccc2s1)");
		CHECK(a->json && b->json && strstr(b->json, "O=C([O-])") &&
		              !strstr(a->json, "O=C([O-])"),
		      "multiple: each query carries its own JSON text");
		of3_query_set_free(&qs);
	}

	rc = parse_file("examples/query_dna_ptm.json", &qs);
	CHECK(rc == OF3_OK, "examples/query_dna_ptm.json parses");
	if (rc == OF3_OK) {
		const of3_chain_t *c = &qs.queries[0].chains[0];
		CHECK(strcmp(qs.queries[0].name, "ptm-DNA") == 0 && c->type == OF3_MOL_DNA &&
		              same_ids(c, IDS("A")) && strcmp(c->sequence, "ATUCGTATTCGAT") == 0,
		      "ptm-DNA: DNA chain A ATUCGTATTCGAT, its 'U' kept for the assembly to map");
		CHECK(c->n_noncanonical == 2 && c->noncanonical[0].position == 3 &&
		              strcmp(c->noncanonical[0].ccd, "PSU") == 0 &&
		              c->noncanonical[1].position == 4 &&
		              strcmp(c->noncanonical[1].ccd, "5MC") == 0,
		      "ptm-DNA: non-canonical PSU at 3 and 5MC at 4");
		of3_query_set_free(&qs);
	}

	rc = parse_file("tests/fixtures/queries/protein_ligand.json", &qs);
	CHECK(rc == OF3_OK && qs.queries[0].n_chains == 3 &&
	              strcmp(qs.queries[0].chains[2].ccd_code, "MG") == 0 &&
	              strcmp(qs.queries[0].chains[1].smiles, "CC(=O)OC1C[NH+]2CCC1CC2") == 0,
	      "tests/fixtures/queries/protein_ligand.json: protein, SMILES ligand, MG");
	if (rc == OF3_OK)
		of3_query_set_free(&qs);
}

/* Everything OpenFold3 accepts that the examples do not show. */
static void test_openfold3_fields(void)
{
	of3_query_set_t qs;
	int rc = parse_text(
	        "{'seeds': [7, '8'], 'ccd_file_path': 'ignored', 'queries': {'full': {"
	        " 'use_msas': 'yes', 'use_paired_msas': 0, 'use_main_msas': false,"
	        " 'query_name': 'overwritten', 'covalent_bonds': [], 'comment': 'ignored',"
	        " 'chains': ["
	        "  {'molecule_type': 'PROTEIN', 'chain_ids': 'A', 'sequence': 'MBZJOUXK',"
	        "   'non_canonical_residues': {'8': 'MLY', '02': 'SEP'},"
	        "   'main_msa_file_paths': 'examples', 'paired_msa_file_paths': "
	        "['examples/README.md'],"
	        "   'template_alignment_file_path': 'examples/README.md',"
	        "   'template_entry_chain_ids': ['1abc_A', '2xyz_B']},"
	        "  {'molecule_type': 1, 'chain_ids': ['R'], 'sequence': 'ACGUTN',"
	        "   'non_canonical_residues': null, 'smiles': null},"
	        "  {'molecule_type': 'Dna', 'chain_ids': ['D1', 'd2'], 'sequence': 'ACGTUN',"
	        "   'non_canonical_residues': {}},"
	        "  {'molecule_type': 3, 'chain_ids': 'L', 'ccd_codes': ['HEM'], 'sdf_file_path': "
	        "null,"
	        "   'non_canonical_residues': {}}]},"
	        " 'second': {'chains': [{'molecule_type': 'ligand', 'chain_ids': 'A', 'smiles': "
	        "'O'}]}}}",
	        &qs);
	CHECK(rc == OF3_OK, "every OpenFold3 field, in its coerced forms%s%s", rc ? ": " : "",
	      rc ? of3_errmsg() : "");
	if (rc < 0)
		return;
	const of3_query_t *q = &qs.queries[0];
	const of3_chain_t *c = q->chains;
	CHECK(qs.n_seeds == 2 && qs.seeds[0] == 7 && qs.seeds[1] == 8 && q->n_seeds == 2 &&
	              q->seeds[1] == 8 && qs.queries[1].n_seeds == 2,
	      "seeds: integers and digit strings, copied to every query");
	CHECK(strcmp(q->name, "full") == 0 && q->use_msas == 1 && q->use_paired_msas == 0 &&
	              q->use_main_msas == 0,
	      "query name from its key; use_msas 'yes' -> 1, 0 -> 0, false -> 0");
	CHECK(c[0].type == OF3_MOL_PROTEIN && strcmp(c[0].sequence, "MBZJOUXK") == 0,
	      "molecule_type 'PROTEIN' (any case); B Z J O U X kept as given");
	CHECK(c[0].n_noncanonical == 2 && c[0].noncanonical[0].position == 2 &&
	              strcmp(c[0].noncanonical[0].ccd, "SEP") == 0 &&
	              c[0].noncanonical[1].position == 8 &&
	              strcmp(c[0].noncanonical[1].ccd, "MLY") == 0,
	      "non_canonical_residues sorted by position; key '02' is position 2");
	CHECK(c[0].n_main_msa == 1 && strcmp(c[0].main_msa_paths[0], "examples") == 0 &&
	              c[0].n_paired_msa == 1 &&
	              strcmp(c[0].paired_msa_paths[0], "examples/README.md") == 0 &&
	              strcmp(c[0].template_alignment_path, "examples/README.md") == 0 &&
	              c[0].n_template_chain_ids == 2 &&
	              strcmp(c[0].template_chain_ids[1], "2xyz_B") == 0,
	      "MSA paths (a bare string, a directory, a file), template path and chain ids kept");
	CHECK(c[1].type == OF3_MOL_RNA && strcmp(c[1].sequence, "ACGUTN") == 0 &&
	              c[2].type == OF3_MOL_DNA && same_ids(&c[2], IDS("D1", "d2")) &&
	              strcmp(c[2].sequence, "ACGTUN") == 0,
	      "molecule_type 1 is RNA, 'Dna' is DNA; T in RNA and U in DNA kept");
	CHECK(c[3].type == OF3_MOL_LIGAND && strcmp(c[3].ccd_code, "HEM") == 0 &&
	              strcmp(qs.queries[1].chains[0].smiles, "O") == 0,
	      "molecule_type 3 is a ligand; ccd_codes as a one-item list; null fields are absent");
	CHECK(same_ids(&qs.queries[1].chains[0], IDS("A")),
	      "the same chain id in two different queries is fine");
	of3_query_set_free(&qs);
}

static void test_af3(void)
{
	of3_query_set_t qs;
	int rc = parse_file("tests/fixtures/queries_af3/alphafold3_full.json", &qs);
	CHECK(rc == OF3_OK, "alphafold3_full.json (dialect alphafold3, version 4) parses%s%s",
	      rc ? ": " : "", rc ? of3_errmsg() : "");
	if (rc == OF3_OK) {
		const of3_query_t *q = &qs.queries[0];
		const of3_chain_t *c = q->chains;
		CHECK(strcmp(qs.dialect, "alphafold3") == 0 && qs.n_queries == 1 &&
		              strcmp(q->name, "Hello_fold") == 0 && q->n_chains == 6,
		      "alphafold3: one query named like AlphaFold3's output ('Hello fold' -> "
		      "Hello_fold), six entities");
		CHECK(qs.n_seeds == 2 && qs.seeds[0] == 10 && qs.seeds[1] == 42 &&
		              q->n_seeds == 2 && q->seeds[0] == 10,
		      "alphafold3: modelSeeds [10, 42]");
		CHECK(c[0].type == OF3_MOL_PROTEIN && same_ids(&c[0], IDS("A")) &&
		              strcmp(c[0].sequence, "PVLSCGEWQL") == 0 &&
		              c[0].n_noncanonical == 2 && c[0].noncanonical[0].position == 1 &&
		              strcmp(c[0].noncanonical[0].ccd, "HY3") == 0 &&
		              c[0].noncanonical[1].position == 5 &&
		              strcmp(c[0].noncanonical[1].ccd, "P1L") == 0 &&
		              c[0].n_main_msa == 0 && c[0].n_paired_msa == 0,
		      "alphafold3: protein A, ptms HY3@1 and P1L@5 sorted; empty inline MSAs -> no "
		      "MSA files");
		CHECK(c[1].type == OF3_MOL_PROTEIN && strcmp(c[1].sequence, "RPACQLW") == 0,
		      "alphafold3: protein B with null MSAs and templates []");
		CHECK(c[2].type == OF3_MOL_DNA && same_ids(&c[2], IDS("C")) &&
		              c[2].n_noncanonical == 2 &&
		              strcmp(c[2].noncanonical[0].ccd, "6OG") == 0 &&
		              strcmp(c[2].noncanonical[1].ccd, "6MA") == 0,
		      "alphafold3: DNA C with 6OG@1 and 6MA@2");
		CHECK(c[3].type == OF3_MOL_RNA && same_ids(&c[3], IDS("E")) &&
		              strcmp(c[3].sequence, "AGCU") == 0 && c[3].n_noncanonical == 2 &&
		              c[3].noncanonical[1].position == 4 && c[3].n_main_msa == 1 &&
		              strcmp(c[3].main_msa_paths[0],
		                     "tests/fixtures/queries_af3/msa/rna_e.a3m") == 0,
		      "alphafold3: RNA E; unpairedMsaPath resolved against the JSON file's "
		      "directory");
		CHECK(c[4].type == OF3_MOL_LIGAND && same_ids(&c[4], IDS("F", "G", "H")) &&
		              strcmp(c[4].ccd_code, "ATP") == 0 && c[5].type == OF3_MOL_LIGAND &&
		              strcmp(c[5].smiles, "CC(=O)OC1C[NH+]2CCC1CC2") == 0,
		      "alphafold3: ligands F, G, H (ATP) and Z (SMILES)");
		CHECK(q->use_msas && q->use_paired_msas && q->use_main_msas && q->json &&
		              strstr(q->json, "\"dialect\":\"alphafold3\""),
		      "alphafold3: MSA switches on; the JSON text is the whole input");
		of3_query_set_free(&qs);
	}

	rc = parse_file("tests/fixtures/queries_af3/alphafold3_v1.json", &qs);
	CHECK(rc == OF3_OK && qs.queries[0].n_chains == 4 &&
	              same_ids(&qs.queries[0].chains[0], IDS("A", "B")) &&
	              same_ids(&qs.queries[0].chains[1], IDS("G", "H", "I")) &&
	              strcmp(qs.queries[0].chains[3].smiles,
	                     "CCC[C@@H](O)CC\\C=C\\C=C\\C#CC#C\\C=C\\CO") == 0,
	      "alphafold3_v1.json (version 1): id lists, CCD and escaped SMILES ligands%s%s",
	      rc ? ": " : "", rc ? of3_errmsg() : "");
	if (rc == OF3_OK)
		of3_query_set_free(&qs);

	rc = parse_file("tests/fixtures/queries_af3/alphafold_server.json", &qs);
	CHECK(rc == OF3_OK, "alphafold_server.json (AlphaFold Server list) parses%s%s",
	      rc ? ": " : "", rc ? of3_errmsg() : "");
	if (rc == OF3_OK) {
		const of3_query_t *q = &qs.queries[0];
		const of3_chain_t *c = q->chains;
		CHECK(strcmp(qs.dialect, "alphafold-server") == 0 && qs.n_queries == 2 &&
		              strcmp(q->name, "Test_Fold_Job_Number_One") == 0 &&
		              strcmp(qs.queries[1].name, "Test_Fold_Job_Number_Two") == 0 &&
		              q->n_chains == 9 && q->n_seeds == 0 && qs.n_seeds == 0,
		      "server: two jobs, names sanitized as AlphaFold3 does, no seeds in job 1");
		CHECK(same_ids(&c[0], IDS("A")) && same_ids(&c[1], IDS("B")) &&
		              same_ids(&c[2], IDS("C")) && same_ids(&c[3], IDS("D")) &&
		              same_ids(&c[4], IDS("E")) && same_ids(&c[5], IDS("F")) &&
		              same_ids(&c[6], IDS("G", "H")) && same_ids(&c[7], IDS("I", "J")) &&
		              same_ids(&c[8], IDS("K", "L", "M")),
		      "server: chain ids A, B, ... in order, one per copy (count)");
		CHECK(c[0].type == OF3_MOL_PROTEIN && strcmp(c[0].sequence, "PREACHINGS") == 0 &&
		              c[0].n_noncanonical == 2 &&
		              strcmp(c[0].noncanonical[0].ccd, "HY3") == 0 &&
		              strcmp(c[0].noncanonical[1].ccd, "P1L") == 0 &&
		              c[0].noncanonical[1].position == 5,
		      "server: proteinChain with CCD_HY3@1, CCD_P1L@5 -> HY3, P1L");
		CHECK(c[2].type == OF3_MOL_DNA && strcmp(c[2].sequence, "GATTACA") == 0 &&
		              strcmp(c[2].noncanonical[0].ccd, "6OG") == 0 &&
		              c[4].type == OF3_MOL_RNA &&
		              strcmp(c[4].noncanonical[1].ccd, "5MC") == 0 &&
		              c[4].noncanonical[1].position == 4,
		      "server: dnaSequence and rnaSequence with their modifications");
		CHECK(c[5].type == OF3_MOL_LIGAND && strcmp(c[5].ccd_code, "ATP") == 0 &&
		              strcmp(c[6].ccd_code, "HEM") == 0 &&
		              strcmp(c[7].ccd_code, "MG") == 0 && strcmp(c[8].ccd_code, "NA") == 0,
		      "server: ligands CCD_ATP, CCD_HEM -> ATP, HEM; ions MG, NA");
		const of3_query_t *q2 = &qs.queries[1];
		CHECK(q2->n_seeds == 2 && q2->seeds[0] == 1593933729ll && q2->seeds[1] == 4273 &&
		              same_ids(&q2->chains[1], IDS("B", "C")) && q2->json &&
		              strstr(q2->json, "TEACHINGS") && !strstr(q2->json, "PREACHINGS"),
		      "server: job 2's seeds (string and integer), ids B, C, its own JSON text");
		of3_query_set_free(&qs);
	}

	rc = parse_text("[{'name': 'many', 'sequences': [{'ion': {'ion': 'ZN', 'count': 28}},"
	                " {'proteinChain': {'sequence': 'MK'}}]}]",
	                &qs);
	CHECK(rc == OF3_OK && qs.queries[0].chains[0].n_ids == 28 &&
	              strcmp(qs.queries[0].chains[0].ids[25], "Z") == 0 &&
	              strcmp(qs.queries[0].chains[0].ids[26], "AA") == 0 &&
	              strcmp(qs.queries[0].chains[0].ids[27], "BA") == 0 &&
	              same_ids(&qs.queries[0].chains[1], IDS("CA")),
	      "server: ids after Z go AA, BA, CA (AlphaFold3's reverse spreadsheet order)");
	if (rc == OF3_OK)
		of3_query_set_free(&qs);
}

/* ---------------------------------------------------------------------------------------- */

static void test_bad_files(void)
{
	BAD_FILE("malformed JSON (a trailing comma)", "tests/fixtures/queries_bad/malformed.json",
	         "tests/fixtures/queries_bad/malformed.json: line 9, column", "malformed JSON");
	BAD_FILE("a FASTA file, not JSON", "tests/fixtures/queries_bad/not_json.fasta",
	         "not_json.fasta: line 1, column 1", "malformed JSON");
	BAD_FILE("an empty file", "tests/fixtures/queries_bad/empty.json",
	         "empty.json: empty file, no query in it");
	BAD_FILE("a missing file", "tests/fixtures/queries_bad/no_such_file.json",
	         "cannot open tests/fixtures/queries_bad/no_such_file.json");

	char path[] = "/tmp/of3_test_query_XXXXXX";
	int fd = mkstemp(path);
	static const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00,
	                                   0x00, 0x00, 0x03, 0x01, 0x00, 0x00};
	int wrote = fd >= 0 && write(fd, gz, sizeof gz) == (ssize_t)sizeof gz;
	if (fd >= 0)
		close(fd);
	CHECK(wrote, "wrote a gzip-looking temporary file");
	BAD_FILE("binary data (a gzip header)", path, "binary data, not a JSON text file");
	unlink(path);
}

static void test_bad_structure(void)
{
	BAD("a number at the top", "42", "q.json: the top level is a number");
	BAD("no queries", "{'seeds': [1]}", "q.json: missing \"queries\"");
	BAD("queries is a list", "{'queries': []}", "\"queries\": expected an object", "a list");
	BAD("queries is empty", "{'queries': {}}", "\"queries\" is empty");
	BAD("queries given twice", "{'queries': {'a': {'chains': []}}, 'queries': {}}",
	    "\"queries\" is given twice");
	BAD("a query is a list", "{'queries': {'q': []}}", "query 'q': expected an object");
	BAD("no chains", "{'queries': {'q': {'use_msas': true}}}", "query 'q': missing \"chains\"");
	BAD("chains is an object", "{'queries': {'q': {'chains': {}}}}",
	    "query 'q': \"chains\": expected a list");
	BAD("chains is empty", "{'queries': {'q': {'chains': []}}}",
	    "query 'q': \"chains\" is empty");
	BAD("a chain is a string", one_chain("'A'"), "query 'q', chain 1: expected a chain object");
	BAD("an empty query name", "{'queries': {'': {'chains': []}}}",
	    "query '': ", "cannot be empty");
	BAD("a query name with a slash", "{'queries': {'../x': {'chains': []}}}",
	    "query '../x': the name cannot be");
	BAD("the same query name twice",
	    "{'queries': {'a': {'chains': [{'molecule_type': 'ligand', 'chain_ids': 'A', "
	    "'smiles': 'O'}]}, 'a': {'chains': [{'molecule_type': 'ligand', 'chain_ids': 'A', "
	    "'smiles': 'O'}]}}}",
	    "query 'a': the name is also used by query 1");
	BAD("seeds is a number", "{'seeds': 5, 'queries': {}}", "\"seeds\": expected a list");
	BAD("a negative seed", "{'seeds': [-1], 'queries': {}}",
	    "\"seeds\" item 1: expected a whole");
	BAD("a fractional seed", "{'seeds': [1, 2.5], 'queries': {}}", "\"seeds\" item 2");
	BAD("a seed past 2^32", "{'seeds': ['4294967296'], 'queries': {}}", "\"seeds\" item 1");
	BAD("use_msas is a word", "{'queries': {'q': {'use_msas': 'maybe', 'chains': []}}}",
	    "query 'q': \"use_msas\": expected true or false, got a string");
	BAD("use_paired_msas is null",
	    "{'queries': {'q': {'use_paired_msas': null, 'chains': []}}}",
	    "query 'q': \"use_paired_msas\": expected true or false, got null");
	BAD("use_main_msas is 2", "{'queries': {'q': {'use_main_msas': 2, 'chains': []}}}",
	    "\"use_main_msas\": expected true or false, got a number");
	BAD("query_name is a number", "{'queries': {'q': {'query_name': 3, 'chains': []}}}",
	    "\"query_name\": expected a string");
	BAD("covalent bonds",
	    "{'queries': {'q': {'covalent_bonds': [[['A', 1, 1], ['B', 1, 1]]], "
	    "'chains': []}}}",
	    "query 'q': \"covalent_bonds\" is not supported");

	/* several queries, the second bad: the whole file fails, nothing comes back */
	BAD("one bad query among good ones",
	    "{'queries': {'good': {'chains': [{'molecule_type': 'protein', 'chain_ids': 'A', "
	    "'sequence': 'MK'}]}, 'bad': {'chains': [{'molecule_type': 'protein', 'chain_ids': "
	    "'A', 'sequence': 'MK1'}]}, 'also_good': {'chains': [{'molecule_type': 'dna', "
	    "'chain_ids': 'A', 'sequence': 'ACGT'}]}}}",
	    "q.json: query 'bad', chain 1 (id A): sequence position 3: '1' is not");
}

static void test_bad_chains(void)
{
	/* the message shape the issue asks for */
	BAD("a lower-case letter in a three-id chain",
	    "{'queries': {'mcl1': {'chains': [{'molecule_type': 'ligand', 'chain_ids': 'A', "
	    "'ccd_codes': 'ATP'}, {'molecule_type': 'protein', 'chain_ids': ['F', 'G', 'H'], "
	    "'sequence': 'GDDELYRQSLEIISRYbLREQ'}]}}}",
	    "q.json: query 'mcl1', chain 2 (ids F, G, H): sequence position 17: 'b' is not an "
	    "upper-case one-letter code (write 'B')");

	BAD_CHAIN("missing molecule_type", "{'chain_ids': 'A', 'sequence': 'MK'}",
	          "query 'q', chain 1 (id A): missing \"molecule_type\"");
	BAD_CHAIN(
	        "unknown molecule type",
	        "{'molecule_type': 'peptide', 'chain_ids': 'A', "
	        "'sequence': 'MK'}",
	        "chain 1 (id A): molecule_type 'peptide' is not one of protein, rna, dna, ligand");
	BAD_CHAIN("molecule type 4", "{'molecule_type': 4, 'chain_ids': 'A', 'sequence': 'MK'}",
	          "chain 1 (id A): molecule_type: expected", "got a number");
	BAD_CHAIN("molecule type true",
	          "{'molecule_type': true, 'chain_ids': 'A', 'sequence': 'MK'}",
	          "molecule_type: expected", "got true");
	BAD_CHAIN("molecule type ' protein'",
	          "{'molecule_type': ' protein', 'chain_ids': 'A', "
	          "'sequence': 'MK'}",
	          "molecule_type ' protein' is not one of");
	BAD_CHAIN("missing chain_ids", "{'molecule_type': 'protein', 'sequence': 'MK'}",
	          "query 'q', chain 1: missing \"chain_ids\"");
	BAD_CHAIN("chain_ids is a number",
	          "{'molecule_type': 'protein', 'chain_ids': 1, "
	          "'sequence': 'MK'}",
	          "chain 1: \"chain_ids\": expected a string or a list of strings, got a number");
	BAD_CHAIN("a chain id is a number",
	          "{'molecule_type': 'protein', 'chain_ids': ['A', 2], "
	          "'sequence': 'MK'}",
	          "chain 1 (id A): \"chain_ids\" item 2: expected a chain id string, got a number");
	BAD_CHAIN("chain_ids is empty",
	          "{'molecule_type': 'protein', 'chain_ids': [], "
	          "'sequence': 'MK'}",
	          "chain 1: \"chain_ids\" is an empty list");
	BAD_CHAIN("an empty chain id",
	          "{'molecule_type': 'protein', 'chain_ids': '', "
	          "'sequence': 'MK'}",
	          "chain 1: \"chain_ids\": a chain id cannot be empty");
	BAD_CHAIN("a chain id with a space",
	          "{'molecule_type': 'protein', 'chain_ids': ['A B'], "
	          "'sequence': 'MK'}",
	          "chain id 'A B' has a character other than printable ASCII", "at position 2");
	BAD_CHAIN("an unknown chain field (use_msas belongs to the query)",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK', 'use_msas': "
	          "false}",
	          "chain 1 (id A): unknown field \"use_msas\" in a chain");
	BAD_CHAIN("an AlphaFold3 field in a chain",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK', 'count': 2}",
	          "unknown field \"count\"");
	BAD_CHAIN("a field given twice",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK', 'sequence': "
	          "'MKV'}",
	          "chain 1 (id A): \"sequence\" is given twice in a chain");

	/* sequences */
	BAD_CHAIN("no sequence", "{'molecule_type': 'protein', 'chain_ids': 'A'}",
	          "chain 1 (id A): missing \"sequence\": a protein chain needs");
	BAD_CHAIN("a null sequence", "{'molecule_type': 'rna', 'chain_ids': 'A', 'sequence': null}",
	          "missing \"sequence\": an rna chain needs");
	BAD_CHAIN("an empty sequence", "{'molecule_type': 'dna', 'chain_ids': 'A', 'sequence': ''}",
	          "chain 1 (id A): \"sequence\" is empty: a dna chain needs at least one residue");
	BAD_CHAIN("a sequence that is a list",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', "
	          "'sequence': ['M']}",
	          "\"sequence\": expected a string of one-letter codes, got a list");
	BAD_CHAIN("a gap in a sequence",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', "
	          "'sequence': 'MK-V'}",
	          "sequence position 3: '-' is not an upper-case one-letter code");
	BAD_CHAIN("a stop codon star",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', "
	          "'sequence': 'MKV*'}",
	          "sequence position 4: '*' is not");
	BAD_CHAIN("a digit", "{'molecule_type': 'rna', 'chain_ids': 'A', 'sequence': 'ACG1'}",
	          "sequence position 4: '1' is not");
	BAD_CHAIN("a space", "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK V'}",
	          "sequence position 3: a space is not");
	BAD_CHAIN("a tab", "{'molecule_type': 'dna', 'chain_ids': 'A', 'sequence': 'AC\\tG'}",
	          "sequence position 3: a tab is not");
	BAD_CHAIN("a non-ASCII letter",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', "
	          "'sequence': 'MK\xc3\x89V'}",
	          "sequence position 3: '\xc3\x89' is not");
	BAD_CHAIN("lower-case RNA",
	          "{'molecule_type': 'rna', 'chain_ids': 'A', 'sequence': 'acgu'}",
	          "sequence position 1: 'a' is not an upper-case one-letter code (write 'A')");

	/* duplicate chain ids */
	BAD_CHAIN("the same id twice in one chain",
	          "{'molecule_type': 'protein', 'chain_ids': ['A', 'B', 'A'], 'sequence': 'MK'}",
	          "chain 1 (ids A, B, A): chain id 'A' is given twice");
	BAD("the same id in two chains",
	    "{'queries': {'q': {'chains': [{'molecule_type': 'protein', 'chain_ids': ['A', 'B'], "
	    "'sequence': 'MK'}, {'molecule_type': 'ligand', 'chain_ids': ['C', 'B'], 'smiles': "
	    "'O'}]}}}",
	    "query 'q', chain 2 (ids C, B): chain id 'B' is already used by chain 1");

	/* non-canonical residues */
	const char *nc = "{'molecule_type': 'dna', 'chain_ids': 'A', 'sequence': 'ATUCGTATTCGAT', "
	                 "'non_canonical_residues': %s}";
	char c[512];
	snprintf(c, sizeof c, nc, "{'14': 'PSU'}");
	BAD_CHAIN("a non-canonical position past the end", c,
	          "chain 1 (id A): non_canonical_residues: position 14 is outside the sequence "
	          "(1 to 13)");
	snprintf(c, sizeof c, nc, "{'0': 'PSU'}");
	BAD_CHAIN("non-canonical position 0", c, "position 0 is outside the sequence");
	snprintf(c, sizeof c, nc, "{'99999999999999999999': 'PSU'}");
	BAD_CHAIN(
	        "a huge non-canonical position", c,
	        "non_canonical_residues: position 99999999999999999999... is outside the sequence "
	        "(1 to 13)");
	snprintf(c, sizeof c, nc, "{'x': 'PSU'}");
	BAD_CHAIN("a non-canonical key that is not a number", c,
	          "chain 1 (id A): non_canonical_residues: key 'x' is not a position");
	snprintf(c, sizeof c, nc, "{'2.5': 'PSU'}");
	BAD_CHAIN("a fractional non-canonical key", c, "key '2.5' is not a position");
	snprintf(c, sizeof c, nc, "{'-1': 'PSU'}");
	BAD_CHAIN("a negative non-canonical key", c, "key '-1' is not a position");
	snprintf(c, sizeof c, nc, "{'3': 5}");
	BAD_CHAIN("a non-canonical code that is a number", c,
	          "non_canonical_residues: position 3: expected a CCD code string, got a number");
	snprintf(c, sizeof c, nc, "{'3': 'psu'}");
	BAD_CHAIN("a lower-case non-canonical code", c,
	          "non_canonical_residues: position 3: 'psu' is not a CCD code");
	snprintf(c, sizeof c, nc, "{'3': 'PSU', '03': '5MC'}");
	BAD_CHAIN("a non-canonical position given twice", c,
	          "non_canonical_residues: position 3 is given twice");
	snprintf(c, sizeof c, nc, "['PSU']");
	BAD_CHAIN("non-canonical residues as a list", c,
	          "\"non_canonical_residues\": expected an object", "got a list");

	/* ligands */
	BAD_CHAIN(
	        "a ligand with smiles and ccd_codes",
	        "{'molecule_type': 'ligand', 'chain_ids': 'L', 'smiles': 'O', 'ccd_codes': 'HOH'}",
	        "chain 1 (id L): give either \"ccd_codes\" or \"smiles\", not both");
	BAD_CHAIN("a ligand with neither", "{'molecule_type': 'ligand', 'chain_ids': 'L'}",
	          "chain 1 (id L): a ligand chain needs \"ccd_codes\" or \"smiles\"");
	BAD_CHAIN("a ligand from an SDF file",
	          "{'molecule_type': 'ligand', 'chain_ids': 'L', 'sdf_file_path': 'x.sdf'}",
	          "chain 1 (id L): \"sdf_file_path\" is not supported");
	BAD_CHAIN("a ligand with a sequence",
	          "{'molecule_type': 'ligand', 'chain_ids': 'L', 'sequence': 'MK', 'smiles': 'O'}",
	          "\"sequence\" is for protein, rna and dna chains");
	BAD_CHAIN("a ligand with non-canonical residues",
	          "{'molecule_type': 'ligand', 'chain_ids': 'L', 'ccd_codes': 'ATP', "
	          "'non_canonical_residues': {'1': 'ADP'}}",
	          "\"non_canonical_residues\" is for protein, rna and dna chains");
	BAD_CHAIN("two CCD codes in one ligand",
	          "{'molecule_type': 'ligand', 'chain_ids': 'L', 'ccd_codes': ['NAG', 'FUC']}",
	          "chain 1 (id L): \"ccd_codes\" lists 2 codes: only one CCD code per ligand");
	BAD_CHAIN("no CCD codes", "{'molecule_type': 'ligand', 'chain_ids': 'L', 'ccd_codes': []}",
	          "\"ccd_codes\" is an empty list");
	BAD_CHAIN("a CCD code that is a number",
	          "{'molecule_type': 'ligand', 'chain_ids': 'L', 'ccd_codes': [7]}",
	          "\"ccd_codes\": expected a CCD code string, got a number");
	BAD_CHAIN("a six-letter CCD code",
	          "{'molecule_type': 'ligand', 'chain_ids': 'L', 'ccd_codes': 'ATPATP'}",
	          "ccd_codes: 'ATPATP' is not a CCD code (1 to 5 upper-case letters or digits)");
	BAD_CHAIN("a server-style CCD code",
	          "{'molecule_type': 'ligand', 'chain_ids': 'L', 'ccd_codes': 'CCD_ATP'}",
	          "'CCD_ATP' is not a CCD code", "drop the CCD_ prefix");
	BAD_CHAIN("an empty SMILES", "{'molecule_type': 'ligand', 'chain_ids': 'L', 'smiles': ''}",
	          "chain 1 (id L): \"smiles\" is empty");
	BAD_CHAIN("a SMILES that is a number",
	          "{'molecule_type': 'ligand', 'chain_ids': 'L', 'smiles': 6}",
	          "\"smiles\": expected a string, got a number");
	BAD_CHAIN("a protein with a SMILES",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK', 'smiles': 'O'}",
	          "chain 1 (id A): \"smiles\" is for ligand chains");

	/* MSA and template paths */
	BAD_CHAIN("a missing main MSA file",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK', "
	          "'main_msa_file_paths': ['examples', 'no/such/msa.a3m']}",
	          "query 'q', chain 1 (id A): \"main_msa_file_paths\" item 2: 'no/such/msa.a3m' "
	          "does not exist");
	BAD_CHAIN("a missing paired MSA file (bare string)",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK', "
	          "'paired_msa_file_paths': 'no_such_paired.a3m'}",
	          "chain 1 (id A): \"paired_msa_file_paths\": 'no_such_paired.a3m' does not exist");
	BAD_CHAIN("an MSA path that is a number",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK', "
	          "'main_msa_file_paths': [3]}",
	          "\"main_msa_file_paths\" item 1: expected a string, got a number");
	BAD_CHAIN("an empty MSA path",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK', "
	          "'main_msa_file_paths': ['']}",
	          "\"main_msa_file_paths\" item 1: the path is empty");
	BAD_CHAIN("a missing template alignment",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK', "
	          "'template_alignment_file_path': 'no_such.m8'}",
	          "chain 1 (id A): \"template_alignment_file_path\": 'no_such.m8' does not exist");
	BAD_CHAIN("a template alignment that is a directory",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK', "
	          "'template_alignment_file_path': 'examples'}",
	          "\"template_alignment_file_path\": 'examples' is a directory, not a file");
	BAD_CHAIN("template chain ids that are numbers",
	          "{'molecule_type': 'protein', 'chain_ids': 'A', 'sequence': 'MK', "
	          "'template_entry_chain_ids': [1]}",
	          "\"template_entry_chain_ids\" item 1: expected a string");
}

static void test_bad_af3(void)
{
	const char *head =
	        "{'dialect': 'alphafold3', 'version': 4, 'name': 'job', 'modelSeeds': [1], ";
	char s[1024];
#define AF3(what, body, ...)                                \
	do {                                                \
		snprintf(s, sizeof s, "%s%s}", head, body); \
		BAD(what, s, __VA_ARGS__);                  \
	} while (0)
#define SEQ(x) "'sequences': [" x "]"

	BAD("an AlphaFold3 input without dialect", "{'name': 'x', 'sequences': []}",
	    "looks like an AlphaFold3 input but has no \"dialect\"");
	BAD("an unknown dialect", "{'dialect': 'alphafold2', 'version': 1}",
	    "\"dialect\": 'alphafold2' is not one of");
	BAD("a server job outside a list", "{'dialect': 'alphafoldserver', 'version': 1}",
	    "an AlphaFold Server job must be inside a list");
	BAD("no version", "{'dialect': 'alphafold3', 'name': 'x'}", "missing \"version\"");
	BAD("version 5", "{'dialect': 'alphafold3', 'version': 5}",
	    "\"version\": expected an AlphaFold3 input version from 1 to 4, got a number");
	BAD("version as a string", "{'dialect': 'alphafold3', 'version': '4'}",
	    "\"version\": expected", "got a string");
	BAD("an unknown top-level key", "{'dialect': 'alphafold3', 'version': 4, 'queries2': 1}",
	    "unknown field \"queries2\" in an AlphaFold3 input");
	BAD("no name", "{'dialect': 'alphafold3', 'version': 4}", "missing \"name\"");
	BAD("a name of spaces", "{'dialect': 'alphafold3', 'version': 4, 'name': '  '}",
	    "\"name\" needs a letter");
	BAD("no seeds", "{'dialect': 'alphafold3', 'version': 4, 'name': 'x', 'modelSeeds': []}",
	    "query 'x': \"modelSeeds\" needs at least one seed");
	AF3("bonds", "'bondedAtomPairs': [[['A', 1, 'CA'], ['B', 1, 'C1']]]",
	    "query 'job': \"bondedAtomPairs\" is not supported");
	AF3("a user CCD", "'userCCD': 'data_X'", "\"userCCD\" is not supported");
	AF3("a user CCD path", "'userCCDPath': 'my.cif'", "\"userCCDPath\" is not supported");
	AF3("no sequences", "'sequences': []", "query 'job': \"sequences\" is empty");
	AF3("an entity with two types",
	    SEQ("{'protein': {'id': 'A', 'sequence': 'MK'}, 'rna': {'id': 'B', 'sequence': 'A'}}"),
	    "query 'job', chain 1: expected an object with one key", "with other keys");
	AF3("an unknown entity type", SEQ("{'glycan': {'id': 'A'}}"),
	    "chain 1: unknown molecule type 'glycan'");
	AF3("an entity without an id", SEQ("{'protein': {'sequence': 'MK'}}"),
	    "chain 1: missing \"id\"");
	AF3("an empty id list", SEQ("{'protein': {'id': [], 'sequence': 'MK'}}"),
	    "\"id\" is an empty list");
	AF3("an OpenFold3 key in an AlphaFold3 entity",
	    SEQ("{'protein': {'id': 'A', 'sequence': 'MK', 'chain_ids': 'A'}}"),
	    "chain 1 (id A): unknown field \"chain_ids\" in protein");
	AF3("an MSA on a DNA chain",
	    SEQ("{'dna': {'id': 'A', 'sequence': 'AC', 'unpairedMsa': ''}}"),
	    "unknown field \"unpairedMsa\" in dna");
	AF3("a paired MSA on an RNA chain",
	    SEQ("{'rna': {'id': 'A', 'sequence': 'AC', 'pairedMsaPath': 'x'}}"),
	    "unknown field \"pairedMsaPath\" in rna");
	AF3("duplicate ids across entities",
	    SEQ("{'protein': {'id': ['A', 'B'], 'sequence': 'MK'}}, {'ligand': {'id': 'B', "
	        "'ccdCodes': ['ATP']}}"),
	    "query 'job', chain 2 (id B): chain id 'B' is already used by chain 1");
	AF3("a lower-case sequence", SEQ("{'protein': {'id': 'A', 'sequence': 'MKv'}}"),
	    "chain 1 (id A): sequence position 3: 'v' is not an upper-case one-letter code");
	AF3("an empty sequence", SEQ("{'rna': {'id': 'A', 'sequence': ''}}"),
	    "\"sequence\" is empty: an rna chain needs at least one residue");
	AF3("a CCD_ prefix in the alphafold3 dialect",
	    SEQ("{'protein': {'id': 'A', 'sequence': 'MKV', 'modifications': [{'ptmType': "
	        "'CCD_SEP', 'ptmPosition': 2}]}}"),
	    "modifications: position 2: 'CCD_SEP' is not a CCD code", "drop the CCD_ prefix");
	AF3("a modification past the end",
	    SEQ("{'dna': {'id': 'A', 'sequence': 'ACGT', 'modifications': [{'modificationType': "
	        "'5CM', 'basePosition': 5}]}}"),
	    "chain 1 (id A): modifications: position 5 is outside the sequence (1 to 4)");
	AF3("a modification position that is a string",
	    SEQ("{'protein': {'id': 'A', 'sequence': 'MKV', 'modifications': [{'ptmType': 'SEP', "
	        "'ptmPosition': '2'}]}}"),
	    "\"modifications\" item 1: \"ptmPosition\": expected a whole number");
	AF3("a server key in a modification",
	    SEQ("{'protein': {'id': 'A', 'sequence': 'MKV', 'modifications': [{'ptmType': 'SEP', "
	        "'position': 2}]}}"),
	    "unknown field \"position\" in modification item 1 (its fields are: ptmType, "
	    "ptmPosition)");
	AF3("a modification position given twice",
	    SEQ("{'rna': {'id': 'A', 'sequence': 'ACGU', 'modifications': [{'modificationType': "
	        "'PSU', 'basePosition': 4}, {'modificationType': '5MU', 'basePosition': 4}]}}"),
	    "modifications: position 4 is given twice");
	AF3("an inline MSA",
	    SEQ("{'protein': {'id': 'A', 'sequence': 'MK', 'unpairedMsa': "
	        "'>q\\nMK\\n', 'pairedMsa': ''}}"),
	    "chain 1 (id A): \"unpairedMsa\": inline MSAs are not supported",
	    "\"unpairedMsaPath\"");
	AF3("a missing MSA file",
	    SEQ("{'protein': {'id': 'A', 'sequence': 'MK', 'pairedMsaPath': 'no_such.a3m'}}"),
	    "chain 1 (id A): \"pairedMsaPath\": 'no_such.a3m' does not exist");
	AF3("a template",
	    SEQ("{'protein': {'id': 'A', 'sequence': 'MK', 'templates': [{'mmcif': "
	        "'data_x', 'queryIndices': [0], 'templateIndices': [0]}]}}"),
	    "chain 1 (id A): \"templates\" is not supported");
	AF3("a ligand with ccdCodes as a string", SEQ("{'ligand': {'id': 'L', 'ccdCodes': 'ATP'}}"),
	    "\"ccdCodes\": expected a list of CCD codes", "got a string");
	AF3("a glycan ligand (several CCD codes)",
	    SEQ("{'ligand': {'id': 'I', 'ccdCodes': ['NAG', 'FUC']}}"),
	    "chain 1 (id I): \"ccdCodes\" lists 2 components: multi-component ligands");
	AF3("a ligand with ccdCodes and smiles",
	    SEQ("{'ligand': {'id': 'L', 'ccdCodes': ['ATP'], 'smiles': 'O'}}"),
	    "give either \"ccdCodes\" or \"smiles\", not both");
	AF3("a ligand with neither", SEQ("{'ligand': {'id': 'L', 'description': 'x'}}"),
	    "a ligand needs \"ccdCodes\" or \"smiles\"");
#undef AF3
#undef SEQ
}

static void test_bad_server(void)
{
	BAD("an empty job list", "[]", "q.json: an empty list: no AlphaFold Server jobs");
	BAD("a job that is a number", "[42]", "q.json: job 1: expected a job object, got a number");
	BAD("a job without a name", "[{'sequences': []}]", "job 1: missing \"name\"");
	BAD("dialect without version", "[{'name': 'j', 'dialect': 'alphafoldserver'}]",
	    "job 1: give both \"dialect\" and \"version\" or neither");
	BAD("the alphafold3 dialect in a list",
	    "[{'name': 'j', 'dialect': 'alphafold3', 'version': "
	    "1}]",
	    "\"dialect\" of a job in a list must be \"alphafoldserver\"");
	BAD("server version 2", "[{'name': 'j', 'dialect': 'alphafoldserver', 'version': 2}]",
	    "\"version\": the AlphaFold Server form has version 1");
	BAD("an unknown job key", "[{'name': 'j', 'sequences': [], 'bondedAtomPairs': []}]",
	    "job 1: unknown field \"bondedAtomPairs\" in an AlphaFold Server job");
	BAD("no sequences", "[{'name': 'j', 'sequences': []}]",
	    "query 'j': \"sequences\": expected a non-empty list, got an empty list");
	BAD("a bad seed", "[{'name': 'j', 'modelSeeds': ['seed'], 'sequences': []}]",
	    "query 'j': \"modelSeeds\" item 1: expected a whole number");
	BAD("an unknown entity", "[{'name': 'j', 'sequences': [{'smiles': {'smiles': 'O'}}]}]",
	    "query 'j', chain 1: unknown entity type 'smiles'");
	BAD("glycans",
	    "[{'name': 'j', 'sequences': [{'proteinChain': {'sequence': 'PREACHINGS', "
	    "'glycans': [{'residues': 'NAG(NAG)(BMA)', 'position': 8}]}}]}]",
	    "query 'j', chain 1 (id A): \"glycans\" is not supported");
	BAD("a template date",
	    "[{'name': 'j', 'sequences': [{'proteinChain': {'sequence': 'MK', "
	    "'maxTemplateDate': '2018-01-20'}}]}]",
	    "\"maxTemplateDate\" is not supported");
	BAD("useStructureTemplate as a string",
	    "[{'name': 'j', 'sequences': [{'proteinChain': {'sequence': 'MK', "
	    "'useStructureTemplate': 'no'}}]}]",
	    "\"useStructureTemplate\": expected true or false");
	BAD("count 0",
	    "[{'name': 'j', 'sequences': [{'proteinChain': {'sequence': 'MK', "
	    "'count': 0}}]}]",
	    "query 'j', chain 1: \"count\": expected a whole number from 1");
	BAD("count as a string",
	    "[{'name': 'j', 'sequences': [{'ion': {'ion': 'MG', "
	    "'count': '2'}}]}]",
	    "\"count\": expected a whole number", "got a string");
	BAD("an id in a server entity",
	    "[{'name': 'j', 'sequences': [{'proteinChain': {'id': 'A', "
	    "'sequence': 'MK'}}]}]",
	    "chain 1 (id A): unknown field \"id\" in proteinChain");
	BAD("a ligand entry without its code",
	    "[{'name': 'j', 'sequences': [{'ligand': {'count': "
	    "1}}]}]",
	    "chain 1 (id A): missing \"ligand\" (its CCD code)");
	BAD("an ion entry with a ligand code",
	    "[{'name': 'j', 'sequences': [{'ion': {'ion': 'MG', 'ligand': 'CCD_ATP'}}]}]",
	    "chain 1 (id A): the \"ion\" entry takes \"ion\", not \"ligand\"");
	BAD("a lower-case DNA sequence",
	    "[{'name': 'j', 'sequences': [{'dnaSequence': "
	    "{'sequence': 'GATtACA'}}]}]",
	    "query 'j', chain 1 (id A): sequence position 4: 't' is not an upper-case");
	BAD("a server modification past the end",
	    "[{'name': 'j', 'sequences': [{'rnaSequence': {'sequence': 'GUAC', 'modifications': "
	    "[{'modificationType': 'CCD_2MG', 'basePosition': 9}]}}]}]",
	    "chain 1 (id A): modifications: position 9 is outside the sequence (1 to 4)");
	BAD("two jobs with the same name",
	    "[{'name': 'j 1', 'sequences': [{'ion': {'ion': 'MG'}}]}, {'name': 'j_1', "
	    "'sequences': [{'ion': {'ion': 'MG'}}]}]",
	    "query 'j_1': the name is also used by query 1");
	BAD("the second job bad",
	    "[{'name': 'a', 'sequences': [{'ion': {'ion': 'MG'}}]}, {'name': 'b', 'sequences': "
	    "[{'proteinChain': {'sequence': 'MK', 'count': 2}}, {'ligand': {'ligand': 'CCD_AT "
	    "P'}}]}]",
	    "query 'b', chain 2 (id C): ligand: 'AT P' is not a CCD code");
}

int main(void)
{
	of3_set_progname("test_parse_query");
	test_examples();
	test_openfold3_fields();
	test_af3();
	test_bad_files();
	test_bad_structure();
	test_bad_chains();
	test_bad_af3();
	test_bad_server();
	return check_summary();
}
