/* spawn.c: fork, exec, forward the child's output, wait. */
#define _GNU_SOURCE /* memmem */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;
static volatile pid_t running = -1;

static void on_signal(int sig)
{
	stop_signal = sig;
	if (running > 0)
		kill(running, sig);
}

void of3_spawn_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocked read returns, so the driver notices at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int of3_interrupted(void)
{
	return stop_signal;
}

double of3_now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Lines already shown, by hash: enough for the distinct notes of a long run; when full, lines
 * are simply shown again. */
#define SEEN_MAX 512
static uint64_t seen[SEEN_MAX];
static int n_seen;

static int seen_before(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	for (int i = 0; i < n_seen; i++)
		if (seen[i] == h)
			return 1;
	if (n_seen < SEEN_MAX)
		seen[n_seen++] = h;
	return 0;
}

static void write_err(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = write(STDERR_FILENO, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k, n -= (size_t)k;
	}
}

/* One complete line (with its newline when it has one). */
static void line_out(const char *s, size_t n, of3_spawn_result_t *r)
{
	size_t len = n && s[n - 1] == '\n' ? n - 1 : n;
	if (len == 0)
		return;
	size_t keep = len < sizeof r->last ? len : sizeof r->last - 1;
	memcpy(r->last, s, keep);
	r->last[keep] = 0;
	/* Only lines that name no query are the same for every query and seed (the stages' notes
	 * about the backend); a line about a query, progress included, is always news. */
	if (memmem(s, len, "query '", 7) || !seen_before(s, len)) {
		write_err(s, len);
		write_err("\n", 1);
	}
}

static void forward(int fd, of3_spawn_result_t *r)
{
	char buf[4096];
	size_t have = 0;
	for (;;) {
		ssize_t k = read(fd, buf + have, sizeof buf - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		have += (size_t)k;
		size_t start = 0;
		for (size_t i = start; i < have; i++)
			if (buf[i] == '\n') {
				line_out(buf + start, i + 1 - start, r);
				start = i + 1;
			}
		if (start == 0 &&
		    have == sizeof buf) /* a line longer than the buffer: pass it on */
			line_out(buf, have, r), start = have;
		memmove(buf, buf + start, have - start);
		have -= start;
	}
	line_out(buf, have, r);
}

int of3_spawn(char *const argv[], of3_spawn_result_t *r)
{
	int p[2];
	memset(r, 0, sizeof *r);
	if (pipe(p) < 0)
		return of3_err(OF3_ERR_SYS, "cannot make a pipe for %s", argv[0]);
	double t0 = of3_now_s();
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]), close(p[1]);
		return of3_err(OF3_ERR_SYS, "cannot start %s", argv[0]);
	}
	if (pid == 0) {
		/* the stages clean up their temporary files on these signals themselves */
		signal(SIGINT, SIG_DFL), signal(SIGTERM, SIG_DFL), signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close(p[0]), close(p[1]);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	running = pid;
	close(p[1]);
	forward(p[0], r);
	close(p[0]);
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR) {
			running = -1;
			return of3_err(OF3_ERR_SYS, "waiting for %s", argv[0]);
		}
	running = -1;
	r->seconds = of3_now_s() - t0;
	r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return OF3_OK;
}
