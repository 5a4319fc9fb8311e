/* test_trunk_keys.c: the keys and shapes of3-trunk binds are exactly the trunk keys of the
 * released checkpoint's layout (issue #7).
 *
 * tests/fixtures/checkpoint/default_state_dict_keys.tsv lists every state-dict entry of the
 * reference OpenFold3 model at the default (predict + pae_enabled) configuration, taken from the
 * model itself (tools/checkpoint/state_dict_keys.py). This test writes those keys and shapes as a
 * torch.save-like archive in memory (a zip of data.pkl and one shared zero storage, so it is
 * small; tests/state_dict_archive.h), opens it with of3_ckpt_open_buffer and runs the trunk's whole
 * binding on it (of3_trunk_check: layout p1, every key and shape the trunk expects, and no trunk
 * key left unbound). Then it checks the dimensions learnt against spec/trunk.md §4, that every
 * trunk key of the list was bound, and that a renamed or misshaped key is caught by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/checkpoint.h"
#include "../of3-trunk/trunk.h"
#include "check.h"
#include "state_dict_archive.h"

#define TSV STATE_DICT_TSV

static int is_trunk(const char *key)
{
	static const char *const p[] = {
	        "input_embedder.",      "layer_norm_z.", "linear_z.",
	        "layer_norm_s.",        "linear_s.",     "template_embedder.",
	        "msa_module_embedder.", "msa_module.",   "pairformer_stack.",
	};
	for (size_t i = 0; i < sizeof p / sizeof *p; i++)
		if (!strncmp(key, p[i], strlen(p[i])))
			return 1;
	return 0;
}

/* Binds the trunk of entries e[0..n); returns the status, dims filled. */
static int bind_entries(const entry_t *e, int n, of3_trunk_dims_t *dims, int64_t *n_trunk,
                        int64_t *n_bound)
{
	buf_t z = {0};
	of3_ckpt_t *ck = NULL;
	build(&z, e, n);
	int rc = of3_ckpt_open_buffer(&ck, z.p, z.n, "default_state_dict_keys");
	if (rc == 0)
		rc = of3_trunk_check(ck, dims);
	*n_trunk = *n_bound = 0;
	for (int64_t i = 0; rc == 0 && i < of3_ckpt_info(ck)->n_tensors; i++) {
		const of3_ckpt_tensor_t *t = of3_ckpt_tensor(ck, i);
		if (is_trunk(t->key)) {
			++*n_trunk;
			*n_bound += t->used;
		}
	}
	of3_ckpt_close(ck);
	free(z.p);
	return rc;
}

int main(int argc, char **argv)
{
	static entry_t e[MAX_KEYS];
	if (argc > 1 && chdir(argv[1]) != 0) {
		perror(argv[1]);
		return 1;
	}
	int n = read_tsv(TSV, e, MAX_KEYS), n_trunk_tsv = 0;
	CHECK(n > 4000, "%s: %d state-dict entries", TSV, n);
	if (n <= 0)
		return check_summary();
	for (int i = 0; i < n; i++)
		n_trunk_tsv += is_trunk(e[i].key);
	CHECK(n_trunk_tsv == 3167, "%d trunk entries in the list (spec/trunk.md Appendix A: 3167)",
	      n_trunk_tsv);

	of3_trunk_dims_t d;
	int64_t n_trunk, n_bound;
	int rc = bind_entries(e, n, &d, &n_trunk, &n_bound);
	CHECK(rc == 0, "the trunk binds the default configuration's state dict %s",
	      rc ? of3_errmsg() : "");
	CHECK(n_trunk == n_trunk_tsv && n_bound == n_trunk,
	      "every trunk key of the list was bound: %lld of %lld", (long long)n_bound,
	      (long long)n_trunk);
	CHECK(d.c_s == 384 && d.c_z == 128 && d.c_s_input == 449 && d.n_pairformer_block == 48,
	      "dimensions from the shapes: c_s %lld, c_z %lld, c_s_input %lld, %d pairformer "
	      "blocks",
	      (long long)d.c_s, (long long)d.c_z, (long long)d.c_s_input, d.n_pairformer_block);
	/* 152,168,064 values (spec/trunk.md §1.4), each tensor rounded up to 16 floats */
	CHECK(d.n_weight_floats >= 152168064 && d.n_weight_floats < 152168064 + 16 * 3167,
	      "%zu weight floats bound (152168064 values plus alignment)", d.n_weight_floats);

	/* a key the trunk needs, renamed: the error names the missing key */
	int i_lz = -1, i_pf = -1;
	for (int i = 0; i < n; i++) {
		if (!strcmp(e[i].key, "linear_z.weight"))
			i_lz = i;
		if (!strcmp(e[i].key,
		            "pairformer_stack.blocks.47.single_transition.linear_out.weight"))
			i_pf = i;
	}
	CHECK(i_lz >= 0 && i_pf >= 0, "linear_z.weight and the last pairformer block are listed");
	if (i_lz >= 0 && i_pf >= 0) {
		char *saved = e[i_lz].key;
		e[i_lz].key = "linear_zz.weight";
		rc = bind_entries(e, n, &d, &n_trunk, &n_bound);
		CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "'linear_z.weight' is missing"),
		      "a renamed key: %s", of3_errmsg());
		e[i_lz].key = saved;
		long long s0 = e[i_pf].shape[0];
		e[i_pf].shape[0] = 385;
		rc = bind_entries(e, n, &d, &n_trunk, &n_bound);
		CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "pairformer_stack.blocks.47."),
		      "a misshaped key: %s", of3_errmsg());
		e[i_pf].shape[0] = s0;
	}
	for (int i = 0; i < n; i++)
		free(e[i].key);
	return check_summary();
}
