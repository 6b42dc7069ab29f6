// SPDX-License-Identifier: GPL-2.0
#include "results.h"

#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

char *results_run_id(const char *label, uint64_t realtime_usec)
{
	time_t t = (time_t)(realtime_usec / 1000000);
	struct tm tm;
	char ts[32];
	unsigned rnd = 0;
	_cleanup_close_ int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, &rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
		rnd = (unsigned)(realtime_usec ^ (uint64_t)getpid());
	if (!gmtime_r(&t, &tm) || !strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm))
		return NULL;
	return strdupf("%s-%s-%04x", ts, label, rnd & 0xffff);
}

int results_new_run_dir(const char *out_dir, const char *prefix, const char *label,
			uint64_t realtime_usec, char **ret_id, char **ret_dir)
{
	int r = mkdir_p(out_dir, 0755);

	if (r < 0)
		return r;
	/* mkdir() never follows a symlink planted with the name and fails on anything that is
	 * there: a name that is taken gets another random suffix, never reused */
	for (int attempt = 0; attempt < 16; attempt++) {
		_cleanup_free_ char *rid = results_run_id(label, realtime_usec);
		_cleanup_free_ char *id =
		    rid && prefix ? strdupf("%s-%s", prefix, rid) : TAKE_PTR(rid);
		_cleanup_free_ char *dir = id ? strdupf("%s/%s", out_dir, id) : NULL;
		if (!dir)
			return -ENOMEM;
		if (mkdir(dir, 0755) == 0) {
			*ret_id = TAKE_PTR(id);
			*ret_dir = TAKE_PTR(dir);
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

const char *results_default_dir(void)
{
	const char *e = getenv("KDRILL_RESULTS");
	return e && *e ? e : "results";
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

char *results_junit(struct json_object *v)
{
	const char *verdict = jstr(v, "verdict"), *scenario = jstr(v, "scenario");
	const char *variant = jstr(v, "variant"), *reason = jstr(v, "reason");
	const char *run_id = jstr(v, "run_id"), *started = jstr(v, "started");
	struct json_object *d, *reports;
	double dur = 0;
	bool failure, error;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	if (json_object_object_get_ex(v, "duration_s", &d))
		dur = json_object_get_double(d);
	verdict = verdict ? verdict : "INFRA";
	error = !strcmp(verdict, "INFRA");
	failure = !error && strcmp(verdict, "PASS");
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", f);
	fputs("  <testsuite name=\"kdrill\" tests=\"1\"", f);
	fprintf(f, " failures=\"%d\" errors=\"%d\" time=\"%.3f\" timestamp=\"", failure, error,
		dur);
	xml_escape_to(f, started, XML_ESC_DEL);
	fputs("\">\n    <testcase classname=\"kdrill.", f);
	xml_escape_to(f, scenario, XML_ESC_DEL);
	fputs("\" name=\"", f);
	xml_escape_to(f, variant ? variant : scenario, XML_ESC_DEL);
	fprintf(f, "\" time=\"%.3f\">\n", dur);
	if (failure || error) {
		fprintf(f, "      <%s type=\"%s\" message=\"", error ? "error" : "failure",
			verdict);
		xml_escape_to(f, reason, XML_ESC_DEL);
		fputs("\">", f);
		if (json_object_object_get_ex(v, "reports", &reports) &&
		    json_object_is_type(reports, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(reports); i++) {
				struct json_object *r = json_object_array_get_idx(reports, i);
				const char *role = jstr(r, "role"), *ex = jstr(r, "excerpt");
				if (role && strcmp(role, "failure"))
					continue;
				xml_escape_to(f, jstr(r, "title"), XML_ESC_DEL);
				fputc('\n', f);
				xml_escape_to(f, ex, XML_ESC_DEL);
				fputc('\n', f);
			}
		}
		fprintf(f, "</%s>\n", error ? "error" : "failure");
	}
	fputs("      <system-out>run ", f);
	xml_escape_to(f, run_id, XML_ESC_DEL);
	fputs(": ", f);
	xml_escape_to(f, verdict, XML_ESC_DEL);
	fputs(" - ", f);
	xml_escape_to(f, reason, XML_ESC_DEL);
	fputs("</system-out>\n    </testcase>\n  </testsuite>\n</testsuites>\n", f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int results_write(const char *out_dir, const char *run_dir, struct json_object *verdict)
{
	const char *js = json_object_to_json_string_ext(
	    verdict, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_free_ char *vpath = strdupf("%s/verdict.json", run_dir);
	_cleanup_free_ char *jpath = strdupf("%s/junit.xml", run_dir);
	_cleanup_free_ char *ipath = strdupf("%s/index.jsonl", out_dir);
	_cleanup_free_ char *junit = results_junit(verdict);
	_cleanup_free_ char *withnl = js ? strdupf("%s\n", js) : NULL;
	struct json_object *idx;
	static const char *const keys[] = {"run_id",	"scenario", "variant",	 "mode",
					   "kernel",	"verdict",  "match",	 "reason",
					   "exit_code", "started",  "duration_s"};
	int r;

	if (!vpath || !jpath || !ipath || !junit || !withnl)
		return -ENOMEM;
	if ((r = write_file_atomic(vpath, withnl, strlen(withnl), 0644)) < 0)
		return r;
	if ((r = write_file_atomic(jpath, junit, strlen(junit), 0644)) < 0)
		return r;
	idx = json_object_new_object();
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		struct json_object *x;
		if (!json_object_object_get_ex(verdict, keys[i], &x))
			continue;
		if (!strcmp(keys[i], "kernel")) {
			const char *rel = jstr(x, "release");
			json_object_object_add(idx, "kernel",
					       rel ? json_object_new_string(rel) : NULL);
			continue;
		}
		json_object_object_add(idx, keys[i], json_object_get(x));
	}
	json_object_object_add(idx, "dir", json_object_new_string(run_dir));
	r = append_line_synced(ipath,
			       json_object_to_json_string_ext(
				   idx, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(idx);
	return r;
}

int results_load_msg(const char *run_dir, struct json_object **ret, char **errmsg)
{
	_cleanup_free_ char *p = strdupf("%s/verdict.json", run_dir), *text = NULL;
	struct json_tokener *tok;
	struct json_object *o;
	size_t len;
	int r;

	*errmsg = NULL;
	if (!p)
		return -ENOMEM;
	/* a regular file (a FIFO would block), and a bounded one */
	if ((r = read_regular_file(p, 64u << 20, &text, &len)) < 0) {
		*errmsg = strdupf("%s: %s", p,
				  r == -EINVAL	? "not a regular file"
				  : r == -EFBIG ? "larger than 64 MiB"
						: strerror(-r));
		return r;
	}
	if (!(tok = json_tokener_new()))
		return -ENOMEM;
	o = len <= INT32_MAX ? json_tokener_parse_ex(tok, text, (int)len + 1) : NULL;
	if (!o) {
		enum json_tokener_error je = json_tokener_get_error(tok);
		size_t off = json_tokener_get_parse_end(tok), line = 1;
		for (size_t i = 0; i < off && i < len; i++)
			line += text[i] == '\n';
		*errmsg = strdupf(
		    "%s:%zu: not valid JSON (%s, byte %zu)", p, line,
		    je == json_tokener_success ? "empty" : json_tokener_error_desc(je), off);
		json_tokener_free(tok);
		return -EBADMSG;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object)) {
		*errmsg = strdupf("%s: the top level is a JSON %s, not an object", p,
				  json_type_to_name(json_object_get_type(o)));
		json_object_put(o);
		return -EBADMSG;
	}
	*ret = o;
	return 0;
}

int results_load(const char *run_dir, struct json_object **ret)
{
	_cleanup_free_ char *msg = NULL;
	return results_load_msg(run_dir, ret, &msg);
}

int results_find(const char *out_dir, const char *id, char **ret_dir)
{
	DIR *d;
	struct dirent *de;
	_cleanup_free_ char *best = NULL;
	int matches = 0;
	bool last = !strcmp(id, "last");
	struct stat st;

	/* a path to a run directory works too */
	if (strchr(id, '/') && stat(id, &st) == 0 && S_ISDIR(st.st_mode)) {
		*ret_dir = strdup(id);
		return *ret_dir ? 0 : -ENOMEM;
	}
	d = opendir(out_dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "index.jsonl"))
			continue;
		if (last) {
			/* runs only (their ids start with the date), not the workflows'
			 * validate-<id>/ bisect-<id>/ directories */
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			if (!best || strcmp(de->d_name, best) > 0) {
				free(best);
				best = strdup(de->d_name);
			}
			matches = 1;
			continue;
		}
		if (!strcmp(de->d_name, id)) { /* exact wins */
			free(best);
			best = strdup(de->d_name);
			matches = 1;
			break;
		}
		if (strstr(de->d_name, id)) {
			matches++;
			free(best);
			best = strdup(de->d_name);
		}
	}
	closedir(d);
	if (matches == 0 || !best)
		return -ENOENT;
	if (matches > 1)
		return -EEXIST;
	*ret_dir = strdupf("%s/%s", out_dir, best);
	return *ret_dir ? 0 : -ENOMEM;
}
