/* stage.c: read, check, process, write; commit or remove the output. */
#include "stage.h"

#include "log.h"

int of3_stage_run(const of3_stage_t *stage, const char *input, const of3_opts_t *o)
{
	of3_bwriter_t *w = NULL;
	of3_breader_t *r = NULL;
	int rc = OF3_OK, n_bundles = 0;
	if (stage->writes_bundles && (rc = of3_bwriter_open(&w, o->output)) < 0)
		return rc;
	if ((rc = of3_breader_open(&r, input)) < 0)
		goto done;
	for (;;) {
		of3_bundle_t *b;
		rc = of3_breader_next(r, &b);
		if (rc == OF3_END) {
			rc = n_bundles ? OF3_OK
			               : of3_err(OF3_ERR_INPUT, "%s: empty stream, no bundle in it",
			                         input[0] == '-' && !input[1] ? "stdin" : input);
			break;
		}
		if (rc < 0)
			break;
		n_bundles++;
		rc = of3_bundle_expect_kind(b, stage->input_kind);
		if (rc == OF3_OK) {
			of3_verbose("query '%s': %d tensors, %d values", b->query, b->n_tensors,
			            b->n_values);
			rc = stage->process(stage->ctx, b, w, o);
		}
		of3_bundle_free(b);
		if (rc < 0)
			break;
	}
done:
	of3_breader_close(r);
	if (rc == OF3_OK && w)
		return of3_bwriter_close(w);
	of3_bwriter_abort(w);
	return rc;
}
