/* predict.h: `of3 predict`, the whole pipeline for query files in one command (DESIGN.md §8).
 *
 * Runs of3-parse, of3-featurize, of3-trunk, of3-diffuse and of3-writecif (found next to the
 * of3 executable) one after another through bundle files in a private temporary folder, for
 * every query of every file and every seed, so that each stage's wall time is its own. One
 * failing query does not stop the others; the summary on stdout gives tokens, atoms, the time
 * of each stage and the best ranking score per query, then "N queries succeeded, M failed". */
#ifndef OF3_DRIVER_PREDICT_H
#define OF3_DRIVER_PREDICT_H

/* The subcommand's main: argv[0] is the program's path (not "predict"). Returns the exit
 * status: 0 when every query succeeded, 2 for a usage error or when every failure was bad
 * input (a stage exited 2), 1 otherwise. */
int of3_predict_main(int argc, char **argv);

#endif
