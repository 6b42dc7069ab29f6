// SPDX-License-Identifier: GPL-2.0
/* Output helpers of the workflows (wfout.h). */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "kernel.h"
#include "results.h"
#include "util.h"
#include "wfout.h"

int wf_make_dir(const char *out_dir, const char *kind, const char *label, char **ret_id,
		char **ret_dir)
{
	return results_new_run_dir(out_dir, kind, label, now_realtime_usec(), ret_id, ret_dir);
}

int wf_write(const char *dir, const char *name, const char *content)
{
	_cleanup_free_ char *p = strdupf("%s/%s", dir, name);

	if (!p)
		return -ENOMEM;
	return write_file_atomic(p, content, strlen(content), 0644);
}

int wf_write_json(const char *dir, const char *name, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_free_ char *nl = s ? strdupf("%s\n", s) : NULL;

	if (!nl)
		return -ENOMEM;
	return wf_write(dir, name, nl);
}

struct json_object *wf_num(double d, int digits)
{
	char buf[64];
	double m = pow(10, digits);

	if (!isfinite(d))
		return NULL;
	snprintf(buf, sizeof(buf), "%.*f", digits, d);
	return json_object_new_double_s(round(d * m) / m, buf);
}

int wf_kernel_identity(const char *ref, char **ret_key, char **ret_release, char **ret_config_hash)
{
	_cleanup_(kd_kernel_freep) struct kd_kernel *k = NULL;
	_cleanup_free_ char *err = NULL, *sha = NULL;
	int r = kd_kernel_resolve(ref, 0, &k, &err);

	*ret_key = *ret_release = *ret_config_hash = NULL;
	if (r < 0)
		return r;
	*ret_key = k->key ? strdup(k->key) : NULL;
	*ret_release = k->release ? strdup(k->release) : NULL;
	if (k->config && kd_sha256_file(k->config, &sha) >= 0 && sha) {
		sha[16] = 0;
		*ret_config_hash = strdup(sha);
	}
	return 0;
}

bool wf_tty(void)
{
	return isatty(STDERR_FILENO);
}
