/* error.c: the per-thread error message and the mapping from status to exit status. */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_msg[1024];
static const char *progname = "of3";

int of3_err(int status, const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof err_msg, fmt, ap);
	va_end(ap);
	if (status == OF3_ERR_SYS && saved_errno != 0) {
		size_t n = strlen(err_msg);
		snprintf(err_msg + n, sizeof err_msg - n, ": %s", strerror(saved_errno));
	}
	return status;
}

int of3_err_prefix(int status, const char *fmt, ...)
{
	char msg[sizeof err_msg];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= sizeof msg)
		return status;
	memcpy(msg + n, ": ", 2);
	size_t room = sizeof msg - (size_t)n - 2, len = strlen(err_msg);
	if (len >= room)
		len = room - 1;
	memcpy(msg + n + 2, err_msg, len);
	msg[(size_t)n + 2 + len] = 0;
	memcpy(err_msg, msg, sizeof msg);
	return status;
}

const char *of3_errmsg(void)
{
	return err_msg;
}

int of3_exit_status(int status)
{
	if (status >= 0 || status == OF3_END)
		return 0;
	if (status == OF3_ERR_INPUT || status == OF3_ERR_USAGE)
		return 2;
	return 1;
}

void of3_set_progname(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
	if (argv0)
		progname = slash ? slash + 1 : argv0;
}

const char *of3_progname(void)
{
	return progname;
}

void of3_print_error(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int of3_report(int status)
{
	of3_print_error("%s", err_msg[0] ? err_msg : "unknown error");
	return of3_exit_status(status);
}
