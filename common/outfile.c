/* outfile.c: temporary name, rename on success, cleanup on failure or signal. */
#define _GNU_SOURCE
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary files a signal must remove. A fixed table: a program has one or two outputs open. */
#define MAX_PENDING 16
static char *volatile pending[MAX_PENDING];

static void on_signal(int sig)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending[i])
			unlink(pending[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void track(char *tmp)
{
	static int installed;
	if (!installed) {
		int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
		for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
			signal(sigs[i], on_signal);
		installed = 1;
	}
	for (int i = 0; i < MAX_PENDING; i++)
		if (!pending[i]) {
			pending[i] = tmp;
			return;
		}
}

static void untrack(const char *tmp)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending[i] == tmp)
			pending[i] = NULL;
}

int of3_outfile_open(of3_outfile_t *of, const char *path, int binary)
{
	memset(of, 0, sizeof *of);
	of->fd = -1;
	if (!path || strcmp(path, "-") == 0) {
		of->label = "stdout";
		if (binary && isatty(STDOUT_FILENO))
			return of3_err(OF3_ERR_USAGE,
			               "refusing to write a binary bundle to a terminal: "
			               "give -o FILE or pipe into the next stage");
		of->fd = STDOUT_FILENO;
		return OF3_OK;
	}
	size_t n = strlen(path);
	of->path = strdup(path);
	of->tmp_path = malloc(n + 16);
	if (!of->path || !of->tmp_path) {
		of3_outfile_abort(of);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	snprintf(of->tmp_path, n + 16, "%s.tmp.XXXXXX", path);
	of->label = of->path;
	of->fd = mkstemp(of->tmp_path);
	if (of->fd < 0) {
		int rc = of3_err(OF3_ERR_SYS, "cannot create %s", of->tmp_path);
		free(of->tmp_path);
		of->tmp_path = NULL;
		of3_outfile_abort(of);
		return rc;
	}
	/* mkstemp makes the file 0600; give it the permissions a plain create would. */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(of->fd, 0666 & ~mask);
	track(of->tmp_path);
	return OF3_OK;
}

int of3_outfile_commit(of3_outfile_t *of)
{
	if (!of->tmp_path) /* stdout: every write was checked; it stays open until exit */
		return OF3_OK;
	int fd = of->fd;
	of->fd = -1;
	if (fd >= 0 && close(fd) < 0) {
		int rc = of3_err(OF3_ERR_SYS, "writing %s", of->label);
		of3_outfile_abort(of);
		return rc;
	}
	if (rename(of->tmp_path, of->path) < 0) {
		int rc = of3_err(OF3_ERR_SYS, "cannot rename %s to %s", of->tmp_path, of->path);
		of3_outfile_abort(of);
		return rc;
	}
	untrack(of->tmp_path);
	free(of->tmp_path);
	free(of->path);
	of->tmp_path = of->path = NULL;
	return OF3_OK;
}

void of3_outfile_abort(of3_outfile_t *of)
{
	if (of->tmp_path) {
		if (of->fd >= 0)
			close(of->fd);
		unlink(of->tmp_path);
		untrack(of->tmp_path);
	}
	free(of->tmp_path);
	free(of->path);
	of->tmp_path = of->path = NULL;
	of->fd = -1;
}

int of3_write_all(int fd, const void *p, size_t n, const char *label)
{
	const char *c = p;
	while (n > 0) {
		/* Linux writes at most ~2 GiB per call; larger requests just come back short. */
		ssize_t k = write(fd, c, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return of3_err(OF3_ERR_SYS, "writing %s", label);
		}
		c += k;
		n -= (size_t)k;
	}
	return OF3_OK;
}
