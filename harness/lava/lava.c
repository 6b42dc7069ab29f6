// SPDX-License-Identifier: GPL-2.0
/* LAVA job definitions and job logs (see lava.h, docs/lava.md).  Pure: no I/O but the
 * FILE the caller hands in. */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "lava.h"
#include "util.h"

static void json_object_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}

bool lava_name_ok(const char *s)
{
	size_t n = 0;
	if (!s || !*s)
		return false;
	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && !strchr("._:+-", s[n]))
			return false;
	return n <= 128 && s[0] != '-';
}

/* A YAML double-quoted scalar (the JSON escapes are valid YAML). */
static void yq(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void image(FILE *f, const char *key, const char *url, const char *compression,
		  const char *arg)
{
	fprintf(f, "      %s:\n        url: ", key);
	yq(f, url);
	fputc('\n', f);
	if (compression)
		fprintf(f, "        compression: %s\n", compression);
	fputs("        image_arg: ", f);
	yq(f, arg);
	fputc('\n', f);
}

int lava_job_write(const struct lava_job *j, FILE *f)
{
	unsigned n = 0;
	STRV_FOREACH (s, (char **)j->scenarios) {
		if (!lava_name_ok(*s))
			return -EINVAL;
		n++;
	}
	if (!n || !j->kernel_url || !j->initrd_url || !j->rootfs_url)
		return -EINVAL;

	fputs("# kdrill LAVA job (kdrill lava job; docs/lava.md)\n", f);
	fputs("job_name: ", f);
	yq(f, j->name);
	fprintf(f, "\ndevice_type: %s\nvisibility: public\npriority: medium\n",
		j->device_type ? j->device_type : "qemu");
	fprintf(f,
		"timeouts:\n  job: {minutes: %u}\n  action: {minutes: %u}\n"
		"  connection: {minutes: 2}\n",
		j->test_minutes + 25, j->test_minutes + 5);
	fputs("metadata:\n  kdrill.kernel: ", f);
	yq(f, j->kernel_ref);
	fputs("\n  kdrill.scenarios: ", f);
	_cleanup_free_ char *joined = strv_join((char **)j->scenarios, " ");
	if (!joined)
		return -ENOMEM;
	yq(f, joined);
	fputs("\ncontext:\n  arch: amd64\n", f);

	/* LAVA orders the disks its own way: kdrill's initramfs finds the root and the
	 * modules disk by their serials, LAVA's test overlay disk is mounted by UUID. */
	fputs("actions:\n- deploy:\n    to: tmpfs\n    timeout: {minutes: 15}\n    images:\n", f);
	image(f, "rootfs", j->rootfs_url, j->rootfs_compression,
	      "-drive format=raw,file={rootfs},if=none,id=kdroot"
	      " -device virtio-blk-pci,drive=kdroot,serial=kdroot");
	if (j->modules_url)
		image(f, "modules", j->modules_url, NULL,
		      "-drive format=raw,file={modules},if=none,id=kdmods,readonly=on"
		      " -device virtio-blk-pci,drive=kdmods,serial=kdmods");
	/* panic=-1 and -no-reboot: a panic ends QEMU at once, so LAVA notices a dead device
	 * in seconds instead of at the test timeout. */
	image(f, "kernel", j->kernel_url, NULL,
	      "-kernel {kernel} -no-reboot -device virtio-rng-pci -smp 2"
	      " -append \"console=ttyS0,115200 kdrill.rootserial=kdroot rw loglevel=6 panic=-1"
	      " printk.time=1 kdrill.lava=1 systemd.unit=kdrill-lava.target"
	      " systemd.hostname=kdrill-dut sysctl.kernel.hung_task_timeout_secs=30"
	      " sysctl.kernel.sysrq=1\"");
	image(f, "initrd", j->initrd_url, NULL, "-initrd {initrd}");
	fputs("- boot:\n    method: qemu\n    media: tmpfs\n    timeout: {minutes: 10}\n"
	      "    prompts: [\"root@kdrill-dut:~# \"]\n",
	      f);
	fprintf(f, "- test:\n    timeout: {minutes: %u}\n    definitions:\n", j->test_minutes);
	fputs("    - from: inline\n      name: kdrill\n      path: inline/kdrill.yaml\n"
	      "      repository:\n        metadata:\n          format: Lava-Test Test Definition 1.0\n"
	      "          name: kdrill\n"
	      "          description: kdrill scenarios in host mode on the device's kernel\n"
	      "        run:\n          steps:\n          - ",
	      f);
	_cleanup_free_ char *step = NULL;
	if (j->duration > 0)
		step = strdupf("kdrill lava dut --duration %.0f %s", j->duration, joined);
	else
		step = strdupf("kdrill lava dut %s", joined);
	if (!step)
		return -ENOMEM;
	yq(f, step);
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

/* ---- base64 ------------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *lava_b64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = malloc(len / 3 * 4 + 5), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = p[i] << 16 | (i + 1 < len ? p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = 0;
	return out;
}

int lava_b64_decode(const char *s, size_t slen, char **ret, size_t *ret_len)
{
	if (slen % 4)
		return -EINVAL;
	_cleanup_free_ char *out = malloc(slen / 4 * 3 + 1);
	size_t n = 0;
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < slen; i += 4) {
		unsigned v = 0, pad = 0;
		for (size_t k = 0; k < 4; k++) {
			const char *c = s[i + k] ? strchr(b64, s[i + k]) : NULL;
			if (s[i + k] == '=' && i + 4 == slen && k >= 2) {
				pad++;
				v <<= 6;
				continue;
			}
			if (!c || pad)
				return -EINVAL;
			v = v << 6 | (unsigned)(c - b64);
		}
		out[n++] = (char)(v >> 16);
		if (pad < 2)
			out[n++] = (char)(v >> 8 & 0xff);
		if (pad < 1)
			out[n++] = (char)(v & 0xff);
	}
	out[n] = 0;
	*ret = TAKE_PTR(out);
	if (ret_len)
		*ret_len = n;
	return 0;
}

/* ---- job logs ----------------------------------------------------------------------- */

struct chunks {
	char **part; /* part[i], NULL when missing */
	size_t n;
};

struct parse {
	struct lava_log *l;
	struct chunks *ch; /* one per cell */
	size_t cap;
	FILE *con;
};

static struct lava_cell *cell_get(struct parse *p, const char *name, size_t nlen, bool create)
{
	for (size_t i = 0; i < p->l->n_cells; i++)
		if (strlen(p->l->cells[i].scenario) == nlen &&
		    !strncmp(p->l->cells[i].scenario, name, nlen))
			return &p->l->cells[i];
	if (!create)
		return NULL;
	if (p->l->n_cells == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct lava_cell *c = reallocarray(p->l->cells, cap, sizeof(*c));
		if (!c)
			return NULL;
		p->l->cells = c;
		struct chunks *ch = reallocarray(p->ch, cap, sizeof(*ch));
		if (!ch)
			return NULL;
		p->ch = ch;
		p->cap = cap;
	}
	struct lava_cell *c = &p->l->cells[p->l->n_cells];
	memset(c, 0, sizeof(*c));
	memset(&p->ch[p->l->n_cells], 0, sizeof(p->ch[0]));
	c->exit_code = -1;
	if (!(c->scenario = strndup(name, nlen)))
		return NULL;
	p->l->n_cells++;
	return c;
}

/* The summary line's JSON.  LAVA's test shell hands the device's output on with its
 * double quotes backslash-escaped ({\"run_id\": ...}); undo that when the line does
 * not parse as it is.  "" (not NULL) when neither parses. */
static char *summary_json(const char *s)
{
	_cleanup_free_ char *u = strdup(s);
	struct json_object *o = json_tokener_parse(s);
	if (o) {
		json_object_put(o);
		return TAKE_PTR(u);
	}
	if (!u)
		return NULL;
	char *w = u;
	for (const char *r = s; *r; r++) {
		if (r[0] == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r;
	}
	*w = 0;
	if ((o = json_tokener_parse(u))) {
		json_object_put(o);
		return TAKE_PTR(u);
	}
	return strdup("");
}

/* "NAME REST": NAME's length, REST (or NULL) */
static size_t word(const char *s, const char **rest)
{
	size_t n = strcspn(s, " ");
	*rest = s[n] ? s + n + 1 : NULL;
	return n;
}

static int target_line(struct parse *p, const char *msg)
{
	const char *m, *rest;
	size_t off;
	fflush(p->con);
	off = (size_t)ftell(p->con);
	fputs(msg, p->con);
	fputc('\n', p->con);
	/* markers may follow other output on the same line (a shell prompt, a printk) */
	if ((m = strstr(msg, LAVA_MARK_START))) {
		m += strlen(LAVA_MARK_START);
		size_t n = word(m, &rest);
		struct lava_cell *c = cell_get(p, m, n, true);
		if (!c)
			return -ENOMEM;
		c->started = true;
		c->con_start = off;
		c->con_end = 0;
	} else if ((m = strstr(msg, LAVA_MARK_SUMMARY))) {
		m += strlen(LAVA_MARK_SUMMARY);
		size_t n = word(m, &rest);
		struct lava_cell *c = cell_get(p, m, n, true);
		if (!c)
			return -ENOMEM;
		if (rest) {
			free(c->summary);
			if (!(c->summary = summary_json(rest)))
				return -ENOMEM;
		}
	} else if ((m = strstr(msg, LAVA_MARK_B64))) {
		m += strlen(LAVA_MARK_B64);
		size_t n = word(m, &rest), i, tot;
		struct lava_cell *c = cell_get(p, m, n, true);
		int used = 0;
		if (!c)
			return -ENOMEM;
		if (!rest || sscanf(rest, "%zu/%zu %n", &i, &tot, &used) != 2 || !used || !tot ||
		    tot > 100000 || i >= tot)
			return 0; /* a corrupted chunk line: the verdict will be incomplete */
		struct chunks *ch = &p->ch[c - p->l->cells];
		if (!ch->part) {
			if (!(ch->part = calloc(tot, sizeof(char *))))
				return -ENOMEM;
			ch->n = tot;
		}
		if (tot != ch->n)
			return 0;
		free(ch->part[i]);
		if (!(ch->part[i] = strdup(rest + used)))
			return -ENOMEM;
		strstrip(ch->part[i]);
	} else if ((m = strstr(msg, LAVA_MARK_END))) {
		m += strlen(LAVA_MARK_END);
		size_t n = word(m, &rest);
		struct lava_cell *c = cell_get(p, m, n, true);
		if (!c)
			return -ENOMEM;
		c->ended = true;
		c->exit_code = rest ? atoi(rest) : -1;
		fflush(p->con);
		c->con_end = (size_t)ftell(p->con);
	}
	return 0;
}

static int assemble(struct lava_cell *c, struct chunks *ch)
{
	size_t len = 0;
	if (!ch->part)
		return 0;
	for (size_t i = 0; i < ch->n; i++) {
		if (!ch->part[i])
			return 0; /* a chunk is missing: no verdict.json, the summary serves */
		len += strlen(ch->part[i]);
	}
	_cleanup_free_ char *all = malloc(len + 1), *dec = NULL;
	if (!all)
		return -ENOMEM;
	all[0] = 0;
	for (size_t i = 0, o = 0; i < ch->n; i++) {
		size_t k = strlen(ch->part[i]);
		memcpy(all + o, ch->part[i], k + 1);
		o += k;
	}
	if (lava_b64_decode(all, len, &dec, NULL) < 0)
		return 0;
	_cleanup_(json_object_putp) struct json_object *j = json_tokener_parse(dec);
	if (!j || !json_object_is_type(j, json_type_object))
		return 0; /* corrupted in transit */
	c->verdict = TAKE_PTR(dec);
	return 0;
}

int lava_log_parse(const char *text, size_t len, struct lava_log *ret)
{
	struct parse p = {.l = ret};
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	p.con = open_memstream(&ret->console, &ret->console_len);
	if (!p.con)
		return -ENOMEM;
	for (size_t off = 0; off < len && r >= 0;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - text - off) : len - off;
		if (n + 1 > cap) {
			char *b = realloc(line, n + 1);
			if (!b) {
				r = -ENOMEM;
				break;
			}
			line = b;
			cap = n + 1;
		}
		memcpy(line, text + off, n);
		line[n] = 0;
		off += n + 1;
		char *s = line;
		while (*s == ' ')
			s++;
		if (!startswith(s, "- {"))
			continue;
		_cleanup_(json_object_putp) struct json_object *o = json_tokener_parse(s + 2);
		struct json_object *lvl, *msg;
		if (!o || !json_object_object_get_ex(o, "lvl", &lvl) ||
		    !json_object_object_get_ex(o, "msg", &msg))
			continue;
		const char *lv = json_object_get_string(lvl);
		if (!strcmp(lv, "target") && json_object_is_type(msg, json_type_string)) {
			_cleanup_free_ char *m = strdup(json_object_get_string(msg));
			if (!m) {
				r = -ENOMEM;
				break;
			}
			for (char *q = m; *q; q++)
				if (*q == '\r')
					*q = ' ';
			r = target_line(&p, m);
		} else if (!strcmp(lv, "error") && json_object_is_type(msg, json_type_string)) {
			free(ret->error);
			if (!(ret->error = strdup(json_object_get_string(msg))))
				r = -ENOMEM;
		}
	}
	if (fclose(p.con) && r >= 0)
		r = -ENOMEM;
	for (size_t i = 0; i < ret->n_cells && r >= 0; i++) {
		struct lava_cell *c = &ret->cells[i];
		if (!c->con_end || c->con_end < c->con_start)
			c->con_end = ret->console_len;
		r = assemble(c, &p.ch[i]);
	}
	for (size_t i = 0; i < ret->n_cells; i++) {
		for (size_t k = 0; k < p.ch[i].n; k++)
			free(p.ch[i].part[k]);
		free(p.ch[i].part);
	}
	free(p.ch);
	if (r < 0)
		lava_log_done(ret);
	return r;
}

void lava_log_done(struct lava_log *l)
{
	for (size_t i = 0; i < l->n_cells; i++) {
		free(l->cells[i].scenario);
		free(l->cells[i].verdict);
		free(l->cells[i].summary);
	}
	free(l->cells);
	free(l->console);
	free(l->error);
	memset(l, 0, sizeof(*l));
}
