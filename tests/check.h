/* check.h: the smallest test harness: CHECK prints "ok - what" or "not ok - what: detail" and
 * counts; check_summary() prints the closing counts and gives the exit status. tests/run.sh
 * adds the ok/not ok lines of every test program up. */
#ifndef OF3_CHECK_H
#define OF3_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                \
	do {                                                            \
		if (cond) {                                             \
			check_passed++;                                 \
			printf("ok - ");                                \
		} else {                                                \
			check_failed++;                                 \
			printf("not ok - %s:%d: ", __FILE__, __LINE__); \
		}                                                       \
		printf(__VA_ARGS__);                                    \
		printf("\n");                                           \
	} while (0)

static inline int check_summary(void)
{
	printf("# %d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
