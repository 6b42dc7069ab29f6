/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An INI file as a list of (section, key, value, line) entries, read with inih (the
 * packaged inih has no line numbers in its handler: a custom reader counts them and
 * notices lines longer than inih reads, which it would otherwise split and parse the
 * tail of as a line of its own).  The parsers of scenarios and matrix plans read a file
 * with it, then interpret the entries in a pass of their own.
 *
 * Errors have one shape: "FILE:LINE: message" ("FILE: message" for the file as a
 * whole), the first one kept in doc->err; the messages of the callers start with the
 * key ("timeout: 'soon' is not a duration").
 */
#ifndef KDRILL_INI_DOC_H
#define KDRILL_INI_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct ini_entry {
	char *section, *key, *value; /* value: "" for a key without '=' value */
	unsigned line;		     /* 1-based, of the key (a continued value starts there) */
	bool used;		     /* free for the caller (consumed by an earlier pass) */
};

struct ini_doc {
	const char *path; /* names the file in the messages (not opened here) */
	struct ini_entry *e;
	size_t n, cap;
	char *err; /* the first error, malloc'd */
};

/* Read an untrusted INI file: a regular file (never blocks on a FIFO) of at most max
 * bytes, without a NUL byte (which would end the text early, silently).  Returns 0 with
 * *ret (malloc'd, NUL-terminated), or a negative errno with *errmsg: "PATH: not a
 * regular file", "PATH: larger than N bytes", "PATH:LINE: NUL byte in the file: not a
 * text file" (all -EINVAL), "PATH: <strerror>". */
int ini_doc_read_file(const char *path, size_t max, char **ret, char **errmsg);
/* Read text (NUL-terminated) into doc->e.  Returns 0, -ENOMEM, or -EINVAL with doc->err
 * "PATH:N: line too long (at most 198 characters)" (then ": long_line_hint" when given)
 * or "PATH:N: syntax error (expected [section] or key = value)", whichever line comes
 * first. */
int ini_doc_parse(struct ini_doc *doc, const char *path, const char *text,
		  const char *long_line_hint);
/* Record an error at line (0: the file as a whole) unless one is recorded already;
 * returns -EINVAL, so that callers can `return ini_doc_fail(...)`. */
int ini_doc_fail(struct ini_doc *doc, unsigned line, const char *fmt, ...) _printf_(3, 4);
/* Frees the entries and the error (take doc->err first to keep it). */
void ini_doc_done(struct ini_doc *doc);

#endif
