// SPDX-License-Identifier: GPL-2.0
/* Root-free unit test of harness/lava/: names that may go into a job's shell step, the
 * job definition, base64, and the parsing of two real LAVA job logs (a two-scenario job
 * that completed, a crash-selftest job whose device panicked), plus a mangled chunk.
 * usage: lava-test FIXTURE-DIR */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "lava.h"
#include "util.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);               \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static const char *verdict_of(const char *json)
{
	static char buf[32];
	struct json_object *o = json_tokener_parse(json), *v;
	buf[0] = 0;
	if (o && json_object_object_get_ex(o, "verdict", &v))
		snprintf(buf, sizeof(buf), "%s", json_object_get_string(v));
	json_object_put(o);
	return buf;
}

static void names(void)
{
	CHECK(lava_name_ok("memcg-oom-jbd2"));
	CHECK(lava_name_ok("nfs-rotate:v42"));
	CHECK(!lava_name_ok(""));
	CHECK(!lava_name_ok("a;rm -rf /"));
	CHECK(!lava_name_ok("$(id)"));
	CHECK(!lava_name_ok("a b"));
	CHECK(!lava_name_ok("--help"));
}

static void b64(void)
{
	const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < ELEMENTSOF(in); i++) {
		_cleanup_free_ char *e = lava_b64_encode(in[i], strlen(in[i])), *d = NULL;
		size_t n = 0;
		CHECK(e && !strcmp(e, out[i]));
		CHECK(lava_b64_decode(out[i], strlen(out[i]), &d, &n) == 0 && n == strlen(in[i]) &&
		      !memcmp(d, in[i], n));
	}
	char *d = NULL;
	CHECK(lava_b64_decode("Zm9", 3, &d, NULL) == -EINVAL);
	CHECK(lava_b64_decode("Zm=v", 4, &d, NULL) == -EINVAL);
	CHECK(lava_b64_decode("Z!9v", 4, &d, NULL) == -EINVAL);
}

static void job(void)
{
	char *sc[] = {"dio-unwritten", "memcg-oom-jbd2", NULL}, *bad[] = {"x;reboot", NULL};
	struct lava_job j = {.name = "t", .kernel_ref = "debian:6.1.0-54-cloud-amd64",
			     .kernel_url = "file:///a/vmlinuz", .initrd_url = "file:///a/initrd",
			     .rootfs_url = "file:///a/root.img.zst", .modules_url = "file:///a/m.img",
			     .rootfs_compression = "zstd", .scenarios = sc, .duration = 10,
			     .test_minutes = 20};
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CHECK(f && lava_job_write(&j, f) == 0);
	fclose(f);
	CHECK(strstr(text, "device_type: qemu\n"));
	CHECK(strstr(text, "    method: qemu\n"));
	CHECK(strstr(text, "compression: zstd"));
	CHECK(strstr(text, "serial=kdroot"));
	CHECK(strstr(text, "serial=kdmods"));
	CHECK(strstr(text, "kdrill.rootserial=kdroot"));
	CHECK(strstr(text, "-no-reboot"));
	CHECK(strstr(text, "panic=-1"));
	CHECK(strstr(text, "systemd.unit=kdrill-lava.target"));
	CHECK(strstr(text, "prompts: [\"root@kdrill-dut:~# \"]"));
	CHECK(strstr(text, "- \"kdrill lava dut --duration 10 dio-unwritten memcg-oom-jbd2\"\n"));
	/* a quote in the URL cannot end the YAML string */
	j.kernel_url = "file:///a/\"x";
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	CHECK(f && lava_job_write(&j, f) == 0);
	fclose(f);
	CHECK(strstr(text, "url: \"file:///a/\\\"x\""));
	j.scenarios = bad;
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	CHECK(f && lava_job_write(&j, f) == -EINVAL);
	fclose(f);
}

static void parse(const char *dir)
{
	_cleanup_free_ char *p1 = strdupf("%s/job-two-scenarios.yaml", dir),
			    *p2 = strdupf("%s/job-panic.yaml", dir), *t1 = NULL, *t2 = NULL;
	size_t n1 = 0, n2 = 0;
	struct lava_log l;

	CHECK(read_full_file(p1, &t1, &n1) == 0);
	CHECK(read_full_file(p2, &t2, &n2) == 0);
	if (!t1 || !t2)
		return;
	CHECK(lava_log_parse(t1, n1, &l) == 0);
	CHECK(l.n_cells == 2);
	if (l.n_cells == 2) {
		CHECK(!strcmp(l.cells[0].scenario, "dio-unwritten"));
		CHECK(!strcmp(l.cells[1].scenario, "memcg-oom-jbd2"));
		for (size_t i = 0; i < 2; i++) {
			CHECK(l.cells[i].started && l.cells[i].ended && l.cells[i].exit_code == 0);
			CHECK(l.cells[i].verdict && !strcmp(verdict_of(l.cells[i].verdict), "PASS"));
			CHECK(l.cells[i].summary && !strcmp(verdict_of(l.cells[i].summary), "PASS"));
			CHECK(l.cells[i].con_start < l.cells[i].con_end);
		}
		/* the second cell's console holds the OOM kills of memcg-oom-jbd2, not the first */
		CHECK(memmem(l.console + l.cells[1].con_start,
			     l.cells[1].con_end - l.cells[1].con_start, "invoked oom-killer", 18));
		CHECK(!memmem(l.console + l.cells[0].con_start,
			      l.cells[0].con_end - l.cells[0].con_start, "invoked oom-killer", 18));
	}
	CHECK(strstr(l.console, "Linux version 6.1.0-54-cloud-amd64"));
	lava_log_done(&l);

	CHECK(lava_log_parse(t2, n2, &l) == 0);
	CHECK(l.n_cells == 1);
	if (l.n_cells == 1) {
		struct lava_cell *c = &l.cells[0];
		CHECK(!strcmp(c->scenario, "crash-selftest"));
		CHECK(c->started && !c->ended && c->exit_code == -1 && !c->verdict && !c->summary);
		CHECK(memmem(l.console + c->con_start, c->con_end - c->con_start,
			     "Kernel panic - not syncing: sysrq triggered crash", 49));
	}
	lava_log_done(&l);

	/* one mangled chunk (a printk in the middle of the line): no verdict.json, the
	 * summary line still serves */
	char *m = strstr(t1, "kdrill-lava: b64 dio-unwritten 3/");
	CHECK(m);
	if (m) {
		m = strchr(m + 34, ' ');
		if (m)
			memcpy(m + 1, "!!!!", 4);
		CHECK(lava_log_parse(t1, n1, &l) == 0);
		CHECK(l.n_cells == 2 && !l.cells[0].verdict && l.cells[0].summary &&
		      l.cells[1].verdict);
		lava_log_done(&l);
	}
	/* garbage is ignored, not a crash */
	const char *junk = "- {\n- {\"lvl\": 3, \"msg\": null}\n- {\"lvl\": \"target\", \"msg\": "
			   "\"kdrill-lava: b64 x 9/3 AAAA\"}\nnot yaml\n";
	CHECK(lava_log_parse(junk, strlen(junk), &l) == 0);
	CHECK(l.n_cells == 1 && !l.cells[0].verdict);
	lava_log_done(&l);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: lava-test FIXTURE-DIR\n");
		return 2;
	}
	names();
	b64();
	job();
	parse(argv[1]);
	if (fails) {
		fprintf(stderr, "%d check(s) failed\n", fails);
		return 1;
	}
	printf("lava: all checks passed\n");
	return 0;
}
