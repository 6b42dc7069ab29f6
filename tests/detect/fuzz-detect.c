// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target over the console detector's streaming API.  The first two
 * input bytes seed the chunking (random chunk sizes, occasional flush() calls
 * as the VM watcher makes them); the rest is the console byte stream.  Every
 * report is turned into JSON so the whole output path is exercised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "detect.h"

static void on_report(const struct kd_report *r, bool first, void *userdata)
{
	size_t *n = userdata;
	(*n)++;
	/* invariants every consumer relies on */
	if (!r->title || !r->signature || !r->excerpt || !r->stack || r->count < 1 ||
	    r->first_line > r->last_line || (unsigned)r->cls >= _KD_CLASS_MAX)
		abort();
	(void)first;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kd_detector *d = NULL;
	size_t n = 0;
	uint32_t seed = 1;
	if (size >= 2) {
		seed = (uint32_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
	}
	if (kd_detector_new(&d, on_report, &n) < 0)
		return 0;
	size_t off = 0;
	while (off < size) {
		seed = seed * 1103515245u + 12345u;
		size_t chunk = seed % 4 == 0 ? 1 : (seed >> 8) % 257 + 1;
		if (chunk > size - off)
			chunk = size - off;
		if (kd_detector_feed(d, data + off, chunk) < 0)
			break;
		off += chunk;
		if ((seed >> 20) % 16 == 0)
			kd_detector_flush(d);
	}
	kd_detector_finish(d);
	for (size_t i = 0; i < kd_detector_n_reports(d); i++) {
		const struct kd_report *r = kd_detector_report(d, i);
		struct json_object *o = kd_report_to_json(r);
		if (!o || !json_object_to_json_string(o))
			abort();
		json_object_put(o);
		kd_class_name(r->cls);
		kd_class_is_failure(r->cls);
	}
	kd_detector_free(d);
	return 0;
}
