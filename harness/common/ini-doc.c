// SPDX-License-Identifier: GPL-2.0
/* INI entries with line numbers (ini-doc.h). */
#include "ini-doc.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
	struct ini_doc *doc;
	const char *text;
	size_t pos;
	unsigned line;
	unsigned long_line; /* first line longer than inih reads */
	int max;	    /* the characters of a line inih reads (its buffer less "\n\0") */
	bool oom;
};

static char *reader(char *str, int num, void *stream)
{
	struct reader *p = stream;
	const char *s = p->text + p->pos, *nl;
	size_t len, take;

	if (!*s)
		return NULL;
	nl = strchr(s, '\n');
	len = nl ? (size_t)(nl - s) + 1 : strlen(s);
	p->line++;
	p->max = num - 2;
	take = len;
	if (take > (size_t)num - 1) {
		/* inih would split the line and parse the tail as a new line */
		if (!p->long_line)
			p->long_line = p->line;
		take = (size_t)num - 2;
		memcpy(str, s, take);
		str[take++] = '\n';
	} else {
		memcpy(str, s, take);
	}
	str[take] = 0;
	p->pos += len;
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct reader *p = user;
	struct ini_doc *d = p->doc;
	struct ini_entry *e;

	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 64;
		struct ini_entry *ne = realloc(d->e, nc * sizeof(*ne));
		if (!ne) {
			p->oom = true;
			return 1;
		}
		d->e = ne;
		d->cap = nc;
	}
	e = &d->e[d->n];
	*e = (struct ini_entry){.section = strdup(section),
				.key = strdup(name),
				.value = strdup(value ? value : ""),
				.line = p->line};
	if (!e->section || !e->key || !e->value) {
		free(e->section);
		free(e->key);
		free(e->value);
		p->oom = true;
		return 1;
	}
	d->n++;
	return 1;
}

int ini_doc_read_file(const char *path, size_t max, char **ret, char **errmsg)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	const char *nul;
	int r = read_regular_file(path, max, &text, &len);

	if (r == -EINVAL) {
		*errmsg = strdupf("%s: not a regular file", path);
		return r;
	}
	if (r == -EFBIG) {
		*errmsg = strdupf("%s: larger than %zu bytes", path, max);
		return -EINVAL;
	}
	if (r < 0) {
		*errmsg = strdupf("%s: %s", path, strerror(-r));
		return r;
	}
	if ((nul = memchr(text, 0, len))) {
		unsigned line = 1;
		for (const char *c = text; c < nul; c++)
			line += *c == '\n';
		*errmsg = strdupf("%s:%u: NUL byte in the file: not a text file", path, line);
		return -EINVAL;
	}
	*ret = TAKE_PTR(text);
	return 0;
}

int ini_doc_parse(struct ini_doc *doc, const char *path, const char *text,
		  const char *long_line_hint)
{
	struct reader p = {.doc = doc, .text = text};
	int r;

	doc->path = path;
	r = ini_parse_stream(reader, &p, handler, &p);
	if (p.oom)
		return -ENOMEM;
	if (p.long_line && (r == 0 || (unsigned)r > p.long_line))
		return ini_doc_fail(doc, p.long_line, "line too long (at most %d characters)%s%s",
				    p.max, long_line_hint ? ": " : "",
				    long_line_hint ? long_line_hint : "");
	if (r > 0)
		return ini_doc_fail(doc, (unsigned)r,
				    "syntax error (expected [section] or key = value)");
	if (r < 0)
		return ini_doc_fail(doc, 0, "cannot parse");
	return 0;
}

int ini_doc_fail(struct ini_doc *doc, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	if (doc->err)
		return -EINVAL;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (line)
		doc->err = strdupf("%s:%u: %s", doc->path, line, m ? m : "error");
	else
		doc->err = strdupf("%s: %s", doc->path, m ? m : "error");
	free(m);
	return -EINVAL;
}

void ini_doc_done(struct ini_doc *doc)
{
	for (size_t i = 0; i < doc->n; i++) {
		free(doc->e[i].section);
		free(doc->e[i].key);
		free(doc->e[i].value);
	}
	free(doc->e);
	free(doc->err);
	*doc = (struct ini_doc){.path = doc->path};
}
