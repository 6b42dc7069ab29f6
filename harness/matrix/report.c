// SPDX-License-Identifier: GPL-2.0
/* The night's report: HTML page, JUnit, JSON summary, KCIDB v5.3, text (report.h). */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"
#include "util.h"

#define KCIDB_ORIGIN "kdrill"

/* ---- escaping -------------------------------------------------------------- */

/* JSON inside <script type="application/json">: no '<', '>' or '&' survive. */
static void json_in_html(FILE *f, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	for (; *s; s++)
		switch (*s) {
		case '<':
			fputs("\\u003c", f);
			break;
		case '>':
			fputs("\\u003e", f);
			break;
		case '&':
			fputs("\\u0026", f);
			break;
		default:
			fputc(*s, f);
		}
}

/* ---- helpers --------------------------------------------------------------- */

static const char *jget(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static bool is_change(enum mx_change c)
{
	return c == MX_NEW_FAILURE || c == MX_FIXED || c == MX_FLAKY || c == MX_STILL_FAILING ||
	       c == MX_INFRA;
}

static const struct mx_cellres *find_cell(const struct mx_analysis *a, const char *kernel,
					  const char *spec)
{
	for (size_t i = 0; i < a->n_cells; i++)
		if (!strcmp(a->cells[i].kernel, kernel) && !strcmp(a->cells[i].spec, spec))
			return &a->cells[i];
	return NULL;
}

static const char *cell_class(const struct mx_cellres *c)
{
	if (c->known)
		return "known";
	switch (c->change) {
	case MX_NEW_FAILURE:
	case MX_STILL_FAILING:
		return "fail";
	case MX_FLAKY:
		return "flaky";
	case MX_INFRA:
		return "infra";
	case MX_NOT_RUN:
		return "notrun";
	default:
		return "pass";
	}
}

static char *store_file_rel(const struct mx_store *s, const char *outdir, const char *dir,
			    const char *file)
{
	_cleanup_free_ char *abs = strdupf("%s/%s/%s", s->path, dir, file);
	return abs ? mx_relpath(outdir, abs) : NULL;
}

static struct json_object *first_failure_report(struct json_object *v)
{
	struct json_object *reps;
	if (!json_object_object_get_ex(v, "reports", &reps) ||
	    !json_object_is_type(reps, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(reps); i++) {
		struct json_object *r = json_object_array_get_idx(reps, i);
		const char *role = jget(r, "role");
		if (role && !strcmp(role, "failure"))
			return r;
	}
	return NULL;
}

/* ---- trends ---------------------------------------------------------------- */

static struct json_object *num_or_null(double v, bool have)
{
	return have ? mx_json_double(v) : NULL;
}

static struct json_object *trend_data(const struct mx_store *s, const struct mx_analysis *a,
				      unsigned max_nights)
{
	struct json_object *o = json_object_new_object(), *nights = json_object_new_array(),
			   *series = json_object_new_object();
	size_t last = (size_t)(a->night - s->nights), first;
	first = last + 1 > max_nights ? last + 1 - max_nights : 0;
	for (size_t i = first; i <= last; i++)
		json_object_array_add(nights, json_object_new_string(s->nights[i].id));
	STRV_FOREACH (spec, a->specs) {
		struct json_object *sr = json_object_new_object(), *fr = json_object_new_array(),
				   *ttr = json_object_new_array(), *ops = json_object_new_array(),
				   *oom = json_object_new_array();
		for (size_t i = first; i <= last; i++) {
			const struct mx_night *n = &s->nights[i];
			unsigned runs = 0, fails = 0, nt = 0, no = 0;
			double tsum = 0, osum = 0, oomsum = 0;
			for (size_t j = 0; j < n->n; j++) {
				const struct mx_entry *e = &n->e[j];
				size_t lk = strlen(e->kernel);
				if (e->infra || strncmp(e->cell, e->kernel, lk) ||
				    e->cell[lk] != ' ' || strcmp(e->cell + lk + 1, *spec))
					continue;
				double active = e->duration_s - (e->load_s > 0 ? e->load_s : 0);
				runs++;
				oomsum += e->oom_kills;
				if (e->failure) {
					fails++;
					tsum += e->t_report_s >= 0 ? e->t_report_s
						: active > 0	   ? active
								   : 0;
					nt++;
				}
				if (active > 0) {
					osum += e->ops / active;
					no++;
				}
			}
			json_object_array_add(fr,
					      num_or_null(runs ? (double)fails / runs : 0, runs));
			json_object_array_add(ttr, num_or_null(nt ? tsum / nt : 0, nt));
			json_object_array_add(ops, num_or_null(no ? osum / no : 0, no));
			json_object_array_add(oom, num_or_null(runs ? oomsum / runs : 0, runs));
		}
		json_object_object_add(sr, "fail_rate", fr);
		json_object_object_add(sr, "ttr", ttr);
		json_object_object_add(sr, "ops_s", ops);
		json_object_object_add(sr, "oom", oom);
		json_object_object_add(series, *spec, sr);
	}
	json_object_object_add(o, "nights", nights);
	json_object_object_add(o, "series", series);
	return o;
}

/* ---- HTML -------------------------------------------------------------------- */

static const char page_css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}"
    "h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.4em 0 .5em;"
    "border-bottom:1px solid #ccc}"
    ".summary{font-size:1.05em;padding:.6em .8em;background:#f4f4f4;border-left:4px solid #888}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .5em;"
    "vertical-align:top}th{background:#eee;text-align:left}"
    "table.grid td{text-align:center;min-width:6em}"
    "td.pass{background:#d9f2d9}td.fail{background:#f6b3b3}td.flaky{background:#fde3a7}"
    "td.infra{background:#d0d8f0}td.notrun{background:#f4f4f4;color:#888}"
    "td.known{background:#e6d9f2}"
    "td.changed{outline:3px solid #c00;outline-offset:-3px;font-weight:bold}"
    "td a{color:inherit}.tag{display:inline-block;padding:0 .4em;border-radius:3px;"
    "font-size:.85em;background:#ddd}.tag.new-failure{background:#c00;color:#fff}"
    ".tag.fixed{background:#2a2;color:#fff}.tag.flaky{background:#e90}"
    ".tag.still-failing{background:#a55;color:#fff}.tag.infra{background:#56a;color:#fff}"
    ".tag.known{background:#96b;color:#fff}"
    "pre{background:#f8f8f8;border:1px solid #ddd;padding:.5em;overflow-x:auto;"
    "font-size:12px;max-height:24em}"
    ".trends{display:flex;flex-wrap:wrap;gap:1em}.trend{border:1px solid #ddd;padding:.4em}"
    ".trend h3{font-size:.95em;margin:.1em 0 .3em}.charts{display:flex;gap:.4em}"
    ".chart{width:170px}.chart .t{font-size:11px;color:#555}"
    ".failure{border:1px solid #ddd;padding:.5em .8em;margin:.6em 0}"
    ".legend span{margin-right:.8em}";

/* Draws the trend charts from #trend-data into each .chart (SVG, no library). */
static const char page_js[] =
    "(function(){\n"
    "var d=JSON.parse(document.getElementById('trend-data').textContent);\n"
    "var NS='http://www.w3.org/2000/svg';\n"
    "function el(n,a){var e=document.createElementNS(NS,n);for(var k in a)e.setAttribute(k,a[k]);"
    "return e;}\n"
    "var charts=document.querySelectorAll('.chart');\n"
    "for(var i=0;i<charts.length;i++){\n"
    " var c=charts[i],s=d.series[c.getAttribute('data-spec')],m=c.getAttribute('data-metric');\n"
    " var v=s?s[m]:null;if(!v)continue;\n"
    " var W=170,H=70,P=4,max=0,pts=[];\n"
    " for(var j=0;j<v.length;j++)if(v[j]!==null&&v[j]>max)max=v[j];\n"
    " if(m==='fail_rate')max=1;if(max<=0)max=1;\n"
    " var svg=el('svg',{width:W,height:H,viewBox:'0 0 '+W+' '+H,'class':'plot'});\n"
    " svg.appendChild(el('rect',{x:0,y:0,width:W,height:H,fill:'#fafafa',stroke:'#ccc'}));\n"
    " var n=v.length;\n"
    " for(var j=0;j<n;j++){if(v[j]===null)continue;\n"
    "  var x=P+(n>1?j*(W-2*P)/(n-1):(W-2*P)/2),y=H-P-(v[j]/max)*(H-2*P);\n"
    "  pts.push(x.toFixed(1)+','+y.toFixed(1));\n"
    "  var dot=el('circle',{cx:x,cy:y,r:2.5,fill:m==='fail_rate'&&v[j]>0?'#c00':'#36c'});\n"
    "  var tt=el('title',{});tt.textContent=d.nights[j]+': '+(+v[j].toPrecision(4));\n"
    "  dot.appendChild(tt);svg.appendChild(dot);}\n"
    " var pl=el('polyline',{points:pts.join(' '),fill:'none',stroke:'#36c','stroke-width':1.5});\n"
    " svg.insertBefore(pl,svg.childNodes[1]);\n"
    " c.appendChild(svg);\n"
    " var lab=document.createElement('div');lab.className='t';\n"
    " lab.textContent='max '+(+max.toPrecision(3));c.appendChild(lab);\n"
    " c.setAttribute('data-rendered',String(pts.length));\n"
    "}\n"
    "document.body.setAttribute('data-charts',String(document.querySelectorAll("
    "'.chart svg').length));\n"
    "})();\n";

static void html_link(FILE *f, const char *href, const char *text)
{
	fputs("<a href=\"", f);
	xml_escape_to(f, href, 0);
	fputs("\">", f);
	xml_escape_to(f, text, 0);
	fputs("</a>", f);
}

static void change_tag(FILE *f, const struct mx_cellres *c)
{
	fprintf(f, "<span class=\"tag %s\">%s</span>", mx_change_id(c->change),
		mx_change_name(c->change));
	if (c->known)
		fputs(" <span class=\"tag known\">known</span>", f);
}

static void tally_text(FILE *f, const struct mx_tally *t)
{
	fprintf(f, "%u/%u", t->fails, t->n);
	if (t->infra)
		fprintf(f, " +%u infra", t->infra);
}

char *mx_report_html(const struct mx_store *s, const struct mx_analysis *a,
		     const struct mx_plan *plan, const char *outdir, unsigned trend_nights)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json_object *td;
	_cleanup_free_ char *summary = mx_report_text(a, plan, NULL);

	if (!f)
		return NULL;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>kdrill matrix ",
	      f);
	xml_escape_to(f, plan ? plan->name : a->night->plan_name, 0);
	fputs(" — ", f);
	xml_escape_to(f, a->night->id, 0);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n", page_css);
	fputs("<h1>kdrill matrix <code>", f);
	xml_escape_to(f, plan ? plan->name : a->night->plan_name, 0);
	fputs("</code>, night <code>", f);
	xml_escape_to(f, a->night->id, 0);
	fputs("</code></h1>\n<p>", f);
	if (a->prev) {
		fputs("compared with ", f);
		fputs(plan && plan->compare == MX_COMPARE_BASELINE ? "the baseline kernel <code>"
								   : "the previous night <code>",
		      f);
		xml_escape_to(
		    f, plan && plan->compare == MX_COMPARE_BASELINE ? plan->baseline : a->prev->id,
		    0);
		fputs("</code>; ", f);
	} else if (plan && plan->compare == MX_COMPARE_BASELINE) {
		fputs("compared with the baseline kernel <code>", f);
		xml_escape_to(f, plan->baseline, 0);
		fputs("</code>; ", f);
	} else
		fputs("first night: nothing to compare with; ", f);
	fprintf(f, "%zu cells, %u runs (%u failing, %u INFRA)", a->n_cells, a->runs, a->fails,
		a->infra);
	if (a->night->torn)
		fprintf(f, "; %zu torn journal lines skipped", a->night->torn);
	fputs("</p>\n<p class=\"summary\" id=\"summary\">", f);
	xml_escape_to(f, summary, 0);
	fputs("</p>\n", f);

	/* changes */
	fputs("<h2 id=\"changes\">Changes</h2>\n", f);
	unsigned nchg = 0;
	for (int pass = 0; pass < 2; pass++)
		for (enum mx_change ch = 0; ch < _MX_CHANGE_MAX; ch++)
			for (size_t i = 0; i < a->n_cells; i++) {
				const struct mx_cellres *c = &a->cells[i];
				if (c->change != ch || !is_change(ch) || (!!c->known != pass))
					continue;
				if (!nchg++)
					fputs("<table "
					      "class=\"changes\"><tr><th>change</th><th>kernel</th>"
					      "<th>scenario</th><th>tonight</th><th>before</th>"
					      "<th>what</th></tr>\n",
					      f);
				fprintf(f, "<tr class=\"change %s\" data-cell=\"",
					mx_change_id(ch));
				xml_escape_to(f, c->key, 0);
				fputs("\"><td>", f);
				change_tag(f, c);
				fputs("</td><td>", f);
				xml_escape_to(f, c->kernel, 0);
				fputs("</td><td>", f);
				xml_escape_to(f, c->spec, 0);
				fputs("</td><td>", f);
				tally_text(f, &c->cur);
				fputs("</td><td>", f);
				if (c->has_ref)
					tally_text(f, &c->ref);
				else
					fputs("—", f);
				if (c->hist_nights)
					fprintf(f, " (history: %u/%u over %u nights)",
						c->hist_fails, c->hist_n, c->hist_nights);
				fputs("</td><td>", f);
				if (c->first_fail) {
					fputs("<a href=\"#f-", f);
					fprintf(f, "%zu\">", i);
					xml_escape_to(f,
						      c->first_fail->title ? c->first_fail->title
									   : c->first_fail->reason,
						      0);
					fputs("</a>", f);
				}
				if (c->change == MX_FLAKY)
					fprintf(f, " rate %.0f%%", c->rate * 100);
				if (c->fixed_runs_needed)
					fprintf(f, " (%ld more passing runs to call it fixed)",
						c->fixed_runs_needed);
				if (c->change == MX_FIXED)
					fprintf(f, " (Fisher p = %.3g)", c->fixed_p);
				if (c->change == MX_INFRA && c->n_runs) {
					fputs(" ", f);
					xml_escape_to(f, c->runs[c->n_runs - 1]->reason, 0);
				}
				if (c->known) {
					fputs(" — known: ", f);
					xml_escape_to(f, c->known->note, 0);
					if (c->known->link) {
						fputs(" ", f);
						html_link(f, c->known->link, "link");
					}
				}
				fputs("</td></tr>\n", f);
			}
	if (nchg)
		fputs("</table>\n", f);
	else
		fputs("<p id=\"nochange\">No change: every cell as before.</p>\n", f);

	/* grid */
	fputs("<h2 id=\"grid\">Matrix</h2>\n<p class=\"legend\"><span class=\"tag\">k/n</span> "
	      "failing runs / runs that tested; a red frame marks a cell that changed tonight "
	      "(new failure, fixed)</p>\n<table class=\"grid\"><tr><th>kernel \\ scenario</th>",
	      f);
	STRV_FOREACH (sp, a->specs) {
		fputs("<th>", f);
		xml_escape_to(f, *sp, 0);
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
	STRV_FOREACH (k, a->kernels) {
		fputs("<tr><th>", f);
		xml_escape_to(f, *k, 0);
		fputs("</th>", f);
		STRV_FOREACH (sp, a->specs) {
			const struct mx_cellres *c = find_cell(a, *k, *sp);
			if (!c) {
				fputs("<td class=\"none\"></td>", f);
				continue;
			}
			bool changed = c->change == MX_NEW_FAILURE || c->change == MX_FIXED;
			fprintf(f, "<td class=\"cell %s%s\" data-change=\"%s\" data-cell=\"",
				cell_class(c), changed ? " changed" : "", mx_change_id(c->change));
			xml_escape_to(f, c->key, 0);
			fputs("\" title=\"", f);
			xml_escape_to(f, mx_change_name(c->change), 0);
			fputs("\">", f);
			const struct mx_entry *show = c->first_fail ? c->first_fail
						      : c->n_runs   ? c->runs[c->n_runs - 1]
								    : NULL;
			const char *word = c->change == MX_NOT_RUN ? "—"
					   : c->change == MX_INFRA ? "INFRA"
					   : c->first_fail	   ? c->first_fail->verdict
								   : "PASS";
			_cleanup_free_ char *href =
			    show && *show->dir
				? store_file_rel(s, outdir, show->dir, "verdict.json")
				: NULL;
			if (href)
				html_link(f, href, word);
			else
				xml_escape_to(f, word, 0);
			if (c->change != MX_NOT_RUN) {
				fputs("<br><small>", f);
				tally_text(f, &c->cur);
				fputs("</small>", f);
			}
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);

	/* trends */
	fputs("<h2 id=\"trends\">Trends</h2>\n<p>Per scenario over the last nights (all "
	      "kernels): failure rate, time to reproduce (s, failing runs), ops/s, OOM kills per "
	      "run.</p>\n<div class=\"trends\">\n",
	      f);
	STRV_FOREACH (sp, a->specs) {
		static const char *const metrics[][2] = {{"fail_rate", "failure rate"},
							 {"ttr", "time to reproduce"},
							 {"ops_s", "ops/s"},
							 {"oom", "OOM kills"}};
		fputs("<div class=\"trend\"><h3>", f);
		xml_escape_to(f, *sp, 0);
		fputs("</h3><div class=\"charts\">", f);
		for (size_t m = 0; m < ELEMENTSOF(metrics); m++) {
			fprintf(f, "<div class=\"chart\" data-metric=\"%s\" data-spec=\"",
				metrics[m][0]);
			xml_escape_to(f, *sp, 0);
			fprintf(f, "\"><div class=\"t\">%s</div></div>", metrics[m][1]);
		}
		fputs("</div></div>\n", f);
	}
	fputs("</div>\n", f);

	/* failures */
	fputs("<h2 id=\"failures\">Failures</h2>\n", f);
	unsigned nf = 0;
	/* the failures that page first: new, flaky, still failing; known ones last */
	for (size_t pass = 0; pass < 2 * _MX_CHANGE_MAX; pass++)
		for (size_t i = 0; i < a->n_cells; i++) {
			const struct mx_cellres *c = &a->cells[i];
			const struct mx_entry *e = c->first_fail;
			if (!e || c->change != pass % _MX_CHANGE_MAX ||
			    !!c->known != pass / _MX_CHANGE_MAX)
				continue;
			nf++;
			_cleanup_free_ char *vpath = strdupf("%s/%s/verdict.json", s->path, e->dir);
			struct json_object *v =
			    vpath && *e->dir ? json_object_from_file(vpath) : NULL;
			struct json_object *rep = v ? first_failure_report(v) : NULL;
			fprintf(f, "<div class=\"failure\" id=\"f-%zu\"><h3>", i);
			xml_escape_to(f, e->verdict, 0);
			fputs(": ", f);
			xml_escape_to(f, e->title ? e->title : e->reason, 0);
			fputs("</h3>\n<p>", f);
			change_tag(f, c);
			fputs(" <code>", f);
			xml_escape_to(f, c->kernel, 0);
			fputs("</code> × <code>", f);
			xml_escape_to(f, c->spec, 0);
			fprintf(f, "</code>, %u of %u runs; kernel release <code>", c->cur.fails,
				c->cur.n);
			xml_escape_to(f, e->release ? e->release : "?", 0);
			fputs("</code>; guilty frame <code>", f);
			xml_escape_to(f, e->frame ? e->frame : "—", 0);
			fputs("</code>; signature <code>", f);
			xml_escape_to(f, e->signature ? e->signature : "—", 0);
			fprintf(f, "</code>; signature of the scenario %s</p>\n",
				e->match ? "matched" : "not matched");
			fputs("<p>", f);
			if (*e->dir) {
				static const char *const files[] = {"verdict.json", "console.log",
								    "runner.log"};
				for (size_t q = 0; q < ELEMENTSOF(files); q++) {
					_cleanup_free_ char *href =
					    store_file_rel(s, outdir, e->dir, files[q]);
					if (href) {
						html_link(f, href, files[q]);
						fputs(" ", f);
					}
				}
			}
			fputs("run <code>", f);
			xml_escape_to(f, e->run_id, 0);
			fputs("</code></p>\n", f);
			const char *excerpt = jget(rep, "excerpt");
			if (excerpt) {
				fputs("<p>console excerpt:</p><pre class=\"excerpt\">", f);
				xml_escape_to(f, excerpt, 0);
				fputs("</pre>\n", f);
			}
			const char *hs = jget(v, "hang_summary");
			if (hs) {
				fputs("<p>hung-task summary:</p><pre class=\"hang\">", f);
				xml_escape_to(f, hs, 0);
				fputs("</pre>\n", f);
			}
			json_object_put(v);
			fputs("</div>\n", f);
		}
	if (!nf)
		fputs("<p>No failing run tonight.</p>\n", f);

	fputs("<script type=\"application/json\" id=\"trend-data\">", f);
	td = trend_data(s, a, trend_nights ? trend_nights : 14);
	json_in_html(f, td);
	json_object_put(td);
	fprintf(f, "</script>\n<script>\n%s</script>\n</body></html>\n", page_js);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- JUnit ------------------------------------------------------------------- */

char *mx_report_junit(const struct mx_analysis *a, const struct mx_plan *plan)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned failures = 0, errors = 0, skipped = 0;
	double total = 0;

	if (!f)
		return NULL;
	for (size_t i = 0; i < a->n_cells; i++) {
		const struct mx_cellres *c = &a->cells[i];
		if (c->known || c->change == MX_NOT_RUN)
			skipped++;
		else if (c->change == MX_INFRA)
			errors++;
		else if (c->cur.fails)
			failures++;
		for (size_t j = 0; j < c->n_runs; j++)
			total += c->runs[j]->duration_s;
	}
	_cleanup_free_ char *name = xml_escape(plan ? plan->name : a->night->plan_name, 0);
	_cleanup_free_ char *night = xml_escape(a->night->id, 0);
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"kdrill matrix\" tests=\"%zu\" failures=\"%u\" errors=\"%u\" "
		"skipped=\"%u\" time=\"%.1f\">\n"
		"<testsuite name=\"%s.%s\" tests=\"%zu\" failures=\"%u\" errors=\"%u\" "
		"skipped=\"%u\" time=\"%.1f\">\n",
		a->n_cells, failures, errors, skipped, total, name ? name : "", night ? night : "",
		a->n_cells, failures, errors, skipped, total);
	for (size_t i = 0; i < a->n_cells; i++) {
		const struct mx_cellres *c = &a->cells[i];
		double t = 0;
		for (size_t j = 0; j < c->n_runs; j++)
			t += c->runs[j]->duration_s;
		_cleanup_free_ char *k = xml_escape(c->kernel, 0);
		_cleanup_free_ char *sp = xml_escape(c->spec, 0);
		fprintf(f, "  <testcase classname=\"%s\" name=\"%s\" time=\"%.1f\">\n", k ? k : "",
			sp ? sp : "", t);
		fprintf(
		    f,
		    "    <properties><property name=\"change\" value=\"%s\"/>"
		    "<property name=\"runs\" value=\"%u\"/><property name=\"failures\" "
		    "value=\"%u\"/><property name=\"infra\" value=\"%u\"/>"
		    "<property name=\"flaky\" value=\"%s\"/><property name=\"known\" value=\"%s\"/>"
		    "</properties>\n",
		    mx_change_id(c->change), c->cur.n, c->cur.fails, c->cur.infra,
		    c->change == MX_FLAKY ? "true" : "false", c->known ? "true" : "false");
		const struct mx_entry *e = c->first_fail;
		_cleanup_free_ char *title =
		    e ? xml_escape(e->title ? e->title : e->reason, 0) : NULL;
		if (c->known) {
			_cleanup_free_ char *note = xml_escape(c->known->note, 0);
			fprintf(f,
				"    <skipped message=\"known issue: %s (%u/%u failed: %s)\"/>\n",
				note ? note : "", c->cur.fails, c->cur.n, title ? title : "");
		} else if (c->change == MX_NOT_RUN)
			fputs("    <skipped message=\"not run\"/>\n", f);
		else if (c->change == MX_INFRA) {
			_cleanup_free_ char *reason =
			    c->n_runs ? xml_escape(c->runs[c->n_runs - 1]->reason, 0) : NULL;
			fprintf(f, "    <error message=\"INFRA: %s\" type=\"infra\"/>\n",
				reason ? reason : "");
		} else if (e) {
			fprintf(f,
				"    <failure message=\"%s: %s (%u/%u runs)\" type=\"%s\">run "
				"%s</failure>\n",
				e->verdict, title ? title : "", c->cur.fails, c->cur.n,
				mx_change_id(c->change), e->run_id);
		}
		fputs("  </testcase>\n", f);
	}
	fputs("</testsuite>\n</testsuites>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- JSON summary -------------------------------------------------------------- */

static void add_s(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

struct json_object *mx_report_summary_json(const struct mx_analysis *a, const struct mx_plan *plan)
{
	struct json_object *o = json_object_new_object(), *counts = json_object_new_object(),
			   *cells = json_object_new_array();
	add_s(o, "schema", "kdrill-matrix-summary/1");
	add_s(o, "night", a->night->id);
	add_s(o, "plan", plan ? plan->name : a->night->plan_name);
	add_s(o, "plan_hash", a->night->plan_hash);
	add_s(o, "compare", plan && plan->compare == MX_COMPARE_BASELINE ? "baseline" : "previous");
	add_s(o, "previous", a->prev ? a->prev->id : NULL);
	for (enum mx_change c = 0; c < _MX_CHANGE_MAX; c++)
		json_object_object_add(counts, mx_change_id(c),
				       json_object_new_int((int)a->counts[c]));
	json_object_object_add(counts, "known", json_object_new_int((int)a->known));
	json_object_object_add(o, "counts", counts);
	json_object_object_add(o, "cells_total", json_object_new_int((int)a->n_cells));
	json_object_object_add(o, "runs", json_object_new_int((int)a->runs));
	json_object_object_add(o, "failing_runs", json_object_new_int((int)a->fails));
	json_object_object_add(o, "infra_runs", json_object_new_int((int)a->infra));
	json_object_object_add(o, "torn_journal_lines", json_object_new_int((int)a->night->torn));
	for (size_t i = 0; i < a->n_cells; i++) {
		const struct mx_cellres *c = &a->cells[i];
		struct json_object *j = json_object_new_object();
		add_s(j, "cell", c->key);
		add_s(j, "kernel", c->kernel);
		add_s(j, "scenario", c->scenario);
		add_s(j, "variant", c->variant);
		add_s(j, "change", mx_change_id(c->change));
		json_object_object_add(j, "runs", json_object_new_int((int)c->cur.n));
		json_object_object_add(j, "failures", json_object_new_int((int)c->cur.fails));
		json_object_object_add(j, "infra", json_object_new_int((int)c->cur.infra));
		json_object_object_add(j, "rate", mx_json_double(c->rate));
		if (c->has_ref) {
			struct json_object *r = json_object_new_object();
			add_s(r, "night", c->ref_night);
			json_object_object_add(r, "runs", json_object_new_int((int)c->ref.n));
			json_object_object_add(r, "failures",
					       json_object_new_int((int)c->ref.fails));
			json_object_object_add(j, "reference", r);
		} else
			json_object_object_add(j, "reference", NULL);
		if (c->known) {
			struct json_object *k = json_object_new_object();
			add_s(k, "name", c->known->name);
			add_s(k, "note", c->known->note);
			add_s(k, "link", c->known->link);
			json_object_object_add(j, "known", k);
		} else
			json_object_object_add(j, "known", NULL);
		if (c->first_fail) {
			struct json_object *ff = json_object_new_object();
			add_s(ff, "run_id", c->first_fail->run_id);
			add_s(ff, "verdict", c->first_fail->verdict);
			add_s(ff, "title", c->first_fail->title);
			add_s(ff, "signature", c->first_fail->signature);
			add_s(ff, "dir", c->first_fail->dir);
			json_object_object_add(j, "first_failure", ff);
		} else
			json_object_object_add(j, "first_failure", NULL);
		struct json_object *runs = json_object_new_array();
		for (size_t r = 0; r < c->n_runs; r++)
			json_object_array_add(runs, json_object_new_string(c->runs[r]->run_id));
		json_object_object_add(j, "run_ids", runs);
		json_object_array_add(cells, j);
	}
	json_object_object_add(o, "cells", cells);
	return o;
}

/* ---- KCIDB v5.3 ---------------------------------------------------------------- */

static char *kid(const char *prefix, const char *s)
{
	return strdupf(KCIDB_ORIGIN ":%s%016llx", prefix, (unsigned long long)mx_hash64(s));
}

/* test.path: "kdrill.<scenario>[.<variant>]" with characters outside [A-Za-z0-9_-]
 * replaced by '_'. */
static char *kcidb_path(const struct mx_entry *e)
{
	char *p = e->variant ? strdupf("kdrill.%s.%s", e->scenario, e->variant)
			     : strdupf("kdrill.%s", e->scenario);
	for (char *q = p; q && *q; q++)
		if (!(isalnum((unsigned char)*q) || *q == '_' || *q == '-' || *q == '.'))
			*q = '_';
	return p;
}

struct json_object *mx_report_kcidb(const struct mx_store *s, const struct mx_analysis *a,
				    const char *url_base)
{
	struct json_object *o = json_object_new_object(), *ver = json_object_new_object(),
			   *checkouts = json_object_new_array(), *builds = json_object_new_array(),
			   *tests = json_object_new_array(), *issues = json_object_new_array(),
			   *incidents = json_object_new_array();
	_cleanup_free_ char *abs = realpath(s->path, NULL);
	_cleanup_free_ char *base =
	    url_base ? strdupf("%s%s", url_base, endswith(url_base, "/") ? "" : "/")
		     : strdupf("file://%s/", abs ? abs : s->path);
	_cleanup_strv_ char **seen_sig = NULL;

	json_object_object_add(ver, "major", json_object_new_int(5));
	json_object_object_add(ver, "minor", json_object_new_int(3));
	json_object_object_add(o, "version", ver);
	STRV_FOREACH (k, a->kernels) {
		_cleanup_free_ char *ck = kid("c", *k), *bk = kid("b", *k);
		struct json_object *c = json_object_new_object(), *b = json_object_new_object(),
				   *misc = json_object_new_object();
		add_s(c, "id", ck);
		add_s(c, "origin", KCIDB_ORIGIN);
		add_s(c, "comment", *k);
		json_object_object_add(c, "valid", json_object_new_boolean(true));
		add_s(misc, "kernel_ref", *k);
		add_s(misc, "night", a->night->id);
		json_object_object_add(c, "misc", misc);
		json_object_array_add(checkouts, c);
		add_s(b, "id", bk);
		add_s(b, "origin", KCIDB_ORIGIN);
		add_s(b, "checkout_id", ck);
		add_s(b, "architecture", "x86_64");
		add_s(b, "config_name", *k);
		add_s(b, "status", "PASS");
		misc = json_object_new_object();
		add_s(misc, "kernel_ref", *k);
		json_object_object_add(b, "misc", misc);
		json_object_array_add(builds, b);
	}
	for (size_t i = 0; i < a->n_cells; i++) {
		const struct mx_cellres *c = &a->cells[i];
		_cleanup_free_ char *bk = kid("b", c->kernel);
		for (size_t r = 0; r < c->n_runs; r++) {
			const struct mx_entry *e = c->runs[r];
			struct json_object *t = json_object_new_object(),
					   *misc = json_object_new_object();
			_cleanup_free_ char *tid = strdupf(KCIDB_ORIGIN ":%s", e->run_id);
			_cleanup_free_ char *path = kcidb_path(e);
			add_s(t, "id", tid);
			add_s(t, "origin", KCIDB_ORIGIN);
			add_s(t, "build_id", bk);
			add_s(t, "path", path);
			add_s(t, "status", e->infra ? "MISS" : e->failure ? "FAIL" : "PASS");
			if (e->started)
				add_s(t, "start_time", e->started);
			json_object_object_add(t, "duration", mx_json_double(e->duration_s));
			add_s(t, "comment", e->reason);
			if (*e->dir) {
				_cleanup_free_ char *log =
				    strdupf("%s%s/console.log", base, e->dir);
				_cleanup_free_ char *vj =
				    strdupf("%s%s/verdict.json", base, e->dir);
				add_s(t, "log_url", log);
				struct json_object *of = json_object_new_array(),
						   *res = json_object_new_object();
				add_s(res, "name", "verdict.json");
				add_s(res, "url", vj);
				json_object_array_add(of, res);
				json_object_object_add(t, "output_files", of);
			}
			if (e->title)
				add_s(t, "log_excerpt", e->title);
			add_s(misc, "night", a->night->id);
			add_s(misc, "cell", e->cell);
			add_s(misc, "verdict", e->verdict);
			json_object_object_add(misc, "signature_match",
					       json_object_new_boolean(e->match));
			json_object_object_add(misc, "round", json_object_new_int((int)e->round));
			json_object_object_add(misc, "attempt",
					       json_object_new_int((int)e->attempt));
			add_s(misc, "change", mx_change_id(c->change));
			json_object_object_add(t, "misc", misc);
			json_object_array_add(tests, t);

			if (!e->failure)
				continue;
			const char *sig = e->signature ? e->signature
					  : e->title   ? e->title
						       : e->reason;
			if (!sig)
				continue;
			_cleanup_free_ char *iid = kid("i", sig);
			bool seen = false;
			STRV_FOREACH (q, seen_sig)
				seen |= !strcmp(*q, iid);
			if (!seen) {
				struct json_object *is = json_object_new_object(),
						   *cul = json_object_new_object(),
						   *im = json_object_new_object();
				strv_extend(&seen_sig, iid);
				add_s(is, "id", iid);
				json_object_object_add(is, "version", json_object_new_int(1));
				add_s(is, "origin", KCIDB_ORIGIN);
				add_s(is, "report_subject", e->title ? e->title : e->reason);
				json_object_object_add(cul, "code", json_object_new_boolean(true));
				json_object_object_add(cul, "tool", json_object_new_boolean(false));
				json_object_object_add(cul, "harness",
						       json_object_new_boolean(false));
				json_object_object_add(is, "culprit", cul);
				if (c->known) {
					add_s(is, "comment", c->known->note);
					if (c->known->link)
						add_s(is, "report_url", c->known->link);
				}
				add_s(im, "signature", sig);
				add_s(im, "frame", e->frame);
				add_s(im, "class", e->verdict);
				json_object_object_add(is, "misc", im);
				json_object_array_add(issues, is);
			}
			struct json_object *inc = json_object_new_object();
			_cleanup_free_ char *incid =
			    strdupf("%s-%s", tid, iid + strlen(KCIDB_ORIGIN) + 1);
			add_s(inc, "id", incid);
			add_s(inc, "origin", KCIDB_ORIGIN);
			add_s(inc, "issue_id", iid);
			json_object_object_add(inc, "issue_version", json_object_new_int(1));
			add_s(inc, "test_id", tid);
			add_s(inc, "build_id", bk);
			json_object_object_add(inc, "present", json_object_new_boolean(true));
			json_object_array_add(incidents, inc);
		}
	}
	json_object_object_add(o, "checkouts", checkouts);
	json_object_object_add(o, "builds", builds);
	json_object_object_add(o, "tests", tests);
	json_object_object_add(o, "issues", issues);
	json_object_object_add(o, "incidents", incidents);
	return o;
}

/* ---- text ---------------------------------------------------------------------- */

char *mx_report_text(const struct mx_analysis *a, const struct mx_plan *plan, const char *page)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	static const enum mx_change order[] = {MX_NEW_FAILURE,	 MX_FIXED, MX_FLAKY,
					       MX_STILL_FAILING, MX_INFRA, MX_NOT_RUN};
	bool any = false;

	if (!f)
		return NULL;
	fprintf(f, "kdrill matrix %s, night %s: %zu cells, %u runs: ",
		plan		      ? plan->name
		: a->night->plan_name ? a->night->plan_name
				      : "?",
		a->night->id, a->n_cells, a->runs);
	for (size_t i = 0; i < ELEMENTSOF(order); i++) {
		unsigned n = a->counts[order[i]];
		if (!n && order[i] != MX_NEW_FAILURE && order[i] != MX_FIXED &&
		    order[i] != MX_FLAKY)
			continue;
		const char *nm = mx_change_name(order[i]);
		fprintf(f, "%s%u %s%s", any ? ", " : "", n, nm,
			n != 1 && order[i] == MX_NEW_FAILURE ? "s" : "");
		any = true;
	}
	if (a->known)
		fprintf(f, ", %u known", a->known);
	if (page)
		fprintf(f, "; report: %s", page);
	fputc('\n', f);
	if (page) /* the long form: one line per change that pages someone */
		for (size_t i = 0; i < a->n_cells; i++) {
			const struct mx_cellres *c = &a->cells[i];
			if (c->known || (c->change != MX_NEW_FAILURE && c->change != MX_FIXED &&
					 c->change != MX_INFRA))
				continue;
			fprintf(f, "  %s: %s: %u/%u", mx_change_name(c->change), c->key,
				c->cur.fails, c->cur.n);
			if (c->first_fail)
				fprintf(f, " %s (%s)",
					c->first_fail->title ? c->first_fail->title
							     : c->first_fail->reason,
					c->first_fail->run_id);
			else if (c->change == MX_INFRA && c->n_runs)
				fprintf(f, " (%u INFRA: %s)", c->cur.infra,
					c->runs[c->n_runs - 1]->reason
					    ? c->runs[c->n_runs - 1]->reason
					    : "?");
			fputc('\n', f);
		}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (!page && len && buf[len - 1] == '\n')
		buf[len - 1] = 0;
	return buf;
}

/* ---- all ------------------------------------------------------------------------- */

static int write_text(const char *dir, const char *name, const char *text, char **err)
{
	_cleanup_free_ char *p = strdupf("%s/%s", dir, name);
	int r;
	if (!p || !text)
		return -ENOMEM;
	r = write_file_atomic(p, text, strlen(text), 0644);
	if (r < 0)
		*err = strdupf("%s: %s", p, strerror(-r));
	return r;
}

static int write_json(const char *dir, const char *name, struct json_object *o, char **err)
{
	if (!o)
		return -ENOMEM;
	_cleanup_free_ char *t =
	    strdupf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return write_text(dir, name, t, err);
}

int mx_report_write(const struct mx_store *s, const struct mx_analysis *a,
		    const struct mx_plan *plan, const struct mx_report_opts *opts,
		    char **ret_summary, char **err)
{
	_cleanup_free_ char *html = NULL, *junit = NULL, *text = NULL, *page = NULL;
	int r;

	*err = NULL;
	if ((r = mkdir_p(opts->out, 0755)) < 0) {
		*err = strdupf("%s: %s", opts->out, strerror(-r));
		return r;
	}
	page = strdupf("%s/index.html", opts->out);
	html = mx_report_html(s, a, plan, opts->out, opts->trend_nights);
	junit = mx_report_junit(a, plan);
	text = mx_report_text(a, plan, page);
	if (!page || !html || !junit || !text)
		return -ENOMEM;
	if ((r = write_text(opts->out, "index.html", html, err)) < 0 ||
	    (r = write_text(opts->out, "junit.xml", junit, err)) < 0 ||
	    (r = write_text(opts->out, "summary.txt", text, err)) < 0 ||
	    (r = write_json(opts->out, "summary.json", mx_report_summary_json(a, plan), err)) < 0 ||
	    (r = write_json(opts->out, "kcidb.json", mx_report_kcidb(s, a, opts->url_base), err)) <
		0)
		return r;
	if (ret_summary)
		*ret_summary = TAKE_PTR(text);
	return 0;
}
