/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal DWARF 4/5 walker (see dwarf.h).  Every read is bounds-checked: the file comes
 * from a package download or a kernel tree and is treated as untrusted.
 */
#include "dwarf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "util.h"

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* tags, attributes, forms used here (DWARF 5, 7.5) */
enum {
	TAG_array_type = 0x01,
	TAG_member = 0x0d,
	TAG_structure_type = 0x13,
	TAG_typedef = 0x16,
	TAG_const_type = 0x26,
	TAG_volatile_type = 0x35,
	AT_name = 0x03,
	AT_byte_size = 0x0b,
	AT_data_member_location = 0x38,
	AT_declaration = 0x3c,
	AT_type = 0x49,
};

enum {
	FORM_addr = 0x01,
	FORM_block2 = 0x03,
	FORM_block4 = 0x04,
	FORM_data2 = 0x05,
	FORM_data4 = 0x06,
	FORM_data8 = 0x07,
	FORM_string = 0x08,
	FORM_block = 0x09,
	FORM_block1 = 0x0a,
	FORM_data1 = 0x0b,
	FORM_flag = 0x0c,
	FORM_sdata = 0x0d,
	FORM_strp = 0x0e,
	FORM_udata = 0x0f,
	FORM_ref_addr = 0x10,
	FORM_ref1 = 0x11,
	FORM_ref2 = 0x12,
	FORM_ref4 = 0x13,
	FORM_ref8 = 0x14,
	FORM_ref_udata = 0x15,
	FORM_indirect = 0x16,
	FORM_sec_offset = 0x17,
	FORM_exprloc = 0x18,
	FORM_flag_present = 0x19,
	FORM_strx = 0x1a,
	FORM_addrx = 0x1b,
	FORM_ref_sup4 = 0x1c,
	FORM_strp_sup = 0x1d,
	FORM_data16 = 0x1e,
	FORM_line_strp = 0x1f,
	FORM_ref_sig8 = 0x20,
	FORM_implicit_const = 0x21,
	FORM_loclistx = 0x22,
	FORM_rnglistx = 0x23,
	FORM_ref_sup8 = 0x24,
	FORM_strx1 = 0x25,
	FORM_strx2 = 0x26,
	FORM_strx3 = 0x27,
	FORM_strx4 = 0x28,
	FORM_addrx1 = 0x29,
	FORM_addrx2 = 0x2a,
	FORM_addrx3 = 0x2b,
	FORM_addrx4 = 0x2c,
	FORM_GNU_ref_alt = 0x1f20,
	FORM_GNU_strp_alt = 0x1f21,
};

struct sect {
	uint8_t *p;
	size_t len;
};

struct cur {
	uint8_t *p, *end;
	bool bad;
};

static uint64_t rd(struct cur *c, size_t n)
{
	uint64_t v = 0;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		c->p = c->end;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

static uint64_t uleb(struct cur *c)
{
	uint64_t v = 0;
	unsigned shift = 0;

	for (;;) {
		if (c->bad || c->p >= c->end) {
			c->bad = true;
			return 0;
		}
		uint8_t b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
}

static int64_t sleb(struct cur *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		if (c->bad || c->p >= c->end) {
			c->bad = true;
			return 0;
		}
		b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

static void skip(struct cur *c, uint64_t n)
{
	if (c->bad || (uint64_t)(c->end - c->p) < n) {
		c->bad = true;
		c->p = c->end;
		return;
	}
	c->p += n;
}

struct abbrev_attr {
	uint64_t name, form;
	int64_t implicit;
};

struct abbrev {
	uint64_t code, tag;
	bool children;
	size_t nattr;
	struct abbrev_attr *attr;
};

struct abbrevs {
	struct abbrev *v;
	size_t n, cap;
	uint64_t offset; /* in .debug_abbrev; (uint64_t)-1: none parsed */
};

static void abbrevs_clear(struct abbrevs *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].attr);
	t->n = 0;
}

static int abbrevs_parse(struct abbrevs *t, const struct sect *s, uint64_t off)
{
	struct cur c;

	if (t->offset == off)
		return 0;
	abbrevs_clear(t);
	t->offset = (uint64_t)-1;
	if (off >= s->len)
		return -EBADMSG;
	c = (struct cur){s->p + off, s->p + s->len, false};
	for (;;) {
		uint64_t code = uleb(&c);
		if (c.bad)
			return -EBADMSG;
		if (code == 0)
			break;
		if (t->n == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 256;
			struct abbrev *v = realloc(t->v, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			t->v = v;
			t->cap = cap;
		}
		struct abbrev *a = &t->v[t->n];
		*a = (struct abbrev){.code = code};
		a->tag = uleb(&c);
		a->children = rd(&c, 1) != 0;
		size_t cap = 0;
		for (;;) {
			uint64_t name = uleb(&c), form = uleb(&c);
			int64_t implicit = 0;
			if (c.bad) {
				free(a->attr);
				return -EBADMSG;
			}
			if (name == 0 && form == 0)
				break;
			if (form == FORM_implicit_const)
				implicit = sleb(&c);
			if (a->nattr == cap) {
				cap = cap ? 2 * cap : 8;
				struct abbrev_attr *v = realloc(a->attr, cap * sizeof(*v));
				if (!v) {
					free(a->attr);
					return -ENOMEM;
				}
				a->attr = v;
			}
			a->attr[a->nattr++] = (struct abbrev_attr){name, form, implicit};
		}
		t->n++;
	}
	t->offset = off;
	return 0;
}

static const struct abbrev *abbrev_find(const struct abbrevs *t, uint64_t code)
{
	/* codes are usually 1..n in order */
	if (code >= 1 && code <= t->n && t->v[code - 1].code == code)
		return &t->v[code - 1];
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].code == code)
			return &t->v[i];
	return NULL;
}

struct unit {
	uint8_t *start; /* unit header (CU-relative references count from here) */
	uint8_t *end;
	unsigned version, offsize, addrsize;
};

struct dw {
	struct sect info, abbrev, str, line_str, str_offsets;
	struct abbrevs ab;
};

/* One attribute's value: constants in .u (with .s the signed view), strings in .str,
 * .at points at the encoded value in the file (for patching), .len its size in bytes
 * when fixed (0 otherwise). */
struct val {
	uint64_t form;
	uint64_t u;
	const char *str;
	uint8_t *at;
	size_t len;
	bool is_const, is_ref;
};

static const char *sect_str(const struct sect *s, uint64_t off)
{
	if (!s->p || off >= s->len || !memchr(s->p + off, 0, s->len - off))
		return NULL;
	return (const char *)s->p + off;
}

static void read_val(struct dw *d, const struct unit *u, struct cur *c, uint64_t form,
		     int64_t implicit, struct val *v)
{
	*v = (struct val){.form = form, .at = c->p};
	switch (form) {
	case FORM_addr:
		skip(c, u->addrsize);
		break;
	case FORM_data1:
	case FORM_ref1:
	case FORM_flag:
	case FORM_strx1:
	case FORM_addrx1:
		v->u = rd(c, 1);
		v->len = 1;
		break;
	case FORM_data2:
	case FORM_ref2:
	case FORM_strx2:
	case FORM_addrx2:
		v->u = rd(c, 2);
		v->len = 2;
		break;
	case FORM_strx3:
	case FORM_addrx3:
		v->u = rd(c, 3);
		v->len = 3;
		break;
	case FORM_data4:
	case FORM_ref4:
	case FORM_ref_sup4:
	case FORM_strx4:
	case FORM_addrx4:
		v->u = rd(c, 4);
		v->len = 4;
		break;
	case FORM_data8:
	case FORM_ref8:
	case FORM_ref_sig8:
	case FORM_ref_sup8:
		v->u = rd(c, 8);
		v->len = 8;
		break;
	case FORM_data16:
		skip(c, 16);
		break;
	case FORM_sdata:
		v->u = (uint64_t)sleb(c);
		break;
	case FORM_udata:
	case FORM_ref_udata:
	case FORM_strx:
	case FORM_addrx:
	case FORM_loclistx:
	case FORM_rnglistx:
		v->u = uleb(c);
		break;
	case FORM_strp:
	case FORM_line_strp:
	case FORM_sec_offset:
	case FORM_strp_sup:
	case FORM_GNU_ref_alt:
	case FORM_GNU_strp_alt:
		v->u = rd(c, u->offsize);
		break;
	case FORM_ref_addr:
		v->u = rd(c, u->version <= 2 ? u->addrsize : u->offsize);
		break;
	case FORM_string:
		v->str = (const char *)c->p;
		{
			uint8_t *z = c->bad ? NULL : memchr(c->p, 0, (size_t)(c->end - c->p));
			if (!z) {
				c->bad = true;
				v->str = NULL;
			} else
				c->p = z + 1;
		}
		break;
	case FORM_block1:
		skip(c, rd(c, 1));
		break;
	case FORM_block2:
		skip(c, rd(c, 2));
		break;
	case FORM_block4:
		skip(c, rd(c, 4));
		break;
	case FORM_block:
	case FORM_exprloc:
		skip(c, uleb(c));
		break;
	case FORM_flag_present:
		v->u = 1;
		break;
	case FORM_implicit_const:
		v->u = (uint64_t)implicit;
		break;
	case FORM_indirect:
		read_val(d, u, c, uleb(c), 0, v);
		return;
	default:
		c->bad = true;
		return;
	}
	v->is_const = form == FORM_data1 || form == FORM_data2 || form == FORM_data4 ||
		      form == FORM_data8 || form == FORM_udata || form == FORM_sdata ||
		      form == FORM_implicit_const;
	v->is_ref = form == FORM_ref1 || form == FORM_ref2 || form == FORM_ref4 ||
		    form == FORM_ref8 || form == FORM_ref_udata;
	if (form == FORM_strp)
		v->str = sect_str(&d->str, v->u);
	else if (form == FORM_line_strp)
		v->str = sect_str(&d->line_str, v->u);
	else if (form == FORM_strx || form == FORM_strx1 || form == FORM_strx2 ||
		 form == FORM_strx3 || form == FORM_strx4) {
		/* str_offsets_base is a CU attribute; a vmlinux built by gcc has one table
		 * per CU starting with an 8-byte header, which this does not track: names
		 * in strx form are left unread (never the structure sought here, in
		 * practice: gcc emits strp/line_strp without split DWARF) */
		v->str = NULL;
	}
}

/* The interesting attributes of one DIE */
struct die {
	uint64_t tag;
	bool children, declaration;
	const char *name;
	struct val byte_size, member_loc, type;
	bool has_byte_size, has_member_loc, has_type;
};

static int read_die(struct dw *d, const struct unit *u, struct cur *c, struct die *die, bool *null)
{
	uint64_t code = uleb(c);
	const struct abbrev *a;

	*null = false;
	if (c->bad)
		return -EBADMSG;
	if (code == 0) {
		*null = true;
		return 0;
	}
	a = abbrev_find(&d->ab, code);
	if (!a)
		return -EBADMSG;
	*die = (struct die){.tag = a->tag, .children = a->children};
	for (size_t i = 0; i < a->nattr; i++) {
		struct val v;
		read_val(d, u, c, a->attr[i].form, a->attr[i].implicit, &v);
		if (c->bad)
			return -EBADMSG;
		switch (a->attr[i].name) {
		case AT_name:
			die->name = v.str;
			break;
		case AT_byte_size:
			die->byte_size = v;
			die->has_byte_size = v.is_const;
			break;
		case AT_data_member_location:
			die->member_loc = v;
			die->has_member_loc = v.is_const;
			break;
		case AT_type:
			die->type = v;
			die->has_type = v.is_ref;
			break;
		case AT_declaration:
			die->declaration = v.u != 0;
			break;
		default:
			break;
		}
	}
	return 0;
}

static int read_die_at(struct dw *d, const struct unit *u, uint64_t cu_off, struct die *die)
{
	struct cur c;
	bool null;

	if (cu_off >= (uint64_t)(u->end - u->start))
		return -EBADMSG;
	c = (struct cur){u->start + cu_off, u->end, false};
	if (read_die(d, u, &c, die, &null) < 0 || null)
		return -EBADMSG;
	return 0;
}

/* byte size of the element type of the array type at CU offset OFF (typedefs and
 * qualifiers followed), 0 if unknown */
static uint64_t array_elem_size(struct dw *d, const struct unit *u, uint64_t off)
{
	struct die die;

	if (read_die_at(d, u, off, &die) < 0 || die.tag != TAG_array_type || !die.has_type)
		return 0;
	for (int hops = 0; hops < 8; hops++) {
		if (read_die_at(d, u, die.type.u, &die) < 0)
			return 0;
		if (die.has_byte_size)
			return die.byte_size.u;
		if ((die.tag != TAG_typedef && die.tag != TAG_const_type &&
		     die.tag != TAG_volatile_type) ||
		    !die.has_type)
			return 0;
	}
	return 0;
}

static int patch_val(struct val *v, uint64_t nv)
{
	if (v->len == 0 || v->len > 8 || (v->len < 8 && nv >> (8 * v->len)))
		return -ERANGE;
	for (size_t i = 0; i < v->len; i++)
		v->at[i] = (uint8_t)(nv >> (8 * i));
	return 0;
}

static int walk_unit(struct dw *d, const struct unit *u, struct cur *c, const char *sname,
		     const char *member, unsigned *patched)
{
	unsigned depth = 0, sdepth = 0; /* sdepth: depth of the candidate's children */
	struct val sbytes = {0};
	uint64_t mtype = 0;
	bool in_struct = false, mfound = false;

	while (c->p < c->end) {
		struct die die;
		bool null;
		int r = read_die(d, u, c, &die, &null);
		if (r < 0)
			return r;
		if (null) {
			if (depth == 0)
				continue; /* padding */
			if (in_struct && depth == sdepth) {
				if (mfound) {
					uint64_t es = array_elem_size(d, u, mtype);
					if (es > 0) {
						r = patch_val(&sbytes, sbytes.u + es);
						if (r < 0)
							return r;
						(*patched)++;
					}
				}
				in_struct = false;
			}
			depth--;
			continue;
		}
		if (!in_struct && die.tag == TAG_structure_type && die.children &&
		    !die.declaration && die.has_byte_size && die.byte_size.len > 0 && die.name &&
		    streq(die.name, sname)) {
			in_struct = true;
			mfound = false;
			sdepth = depth + 1;
			sbytes = die.byte_size;
		} else if (in_struct && depth == sdepth && die.tag == TAG_member && die.name &&
			   streq(die.name, member) && die.has_member_loc &&
			   die.member_loc.u == sbytes.u && die.has_type) {
			mfound = true;
			mtype = die.type.u;
		}
		if (die.children)
			depth++;
	}
	return c->bad ? -EBADMSG : 0;
}

static bool elf_sections(uint8_t *base, size_t size, struct dw *d)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)base;
	Elf64_Shdr *sh;
	const char *shstr;
	size_t shstrlen;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
	    (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum ||
	    eh->e_shstrndx >= eh->e_shnum)
		return false;
	sh = (Elf64_Shdr *)(base + eh->e_shoff);
	if (sh[eh->e_shstrndx].sh_offset > size ||
	    sh[eh->e_shstrndx].sh_size > size - sh[eh->e_shstrndx].sh_offset)
		return false;
	shstr = (const char *)base + sh[eh->e_shstrndx].sh_offset;
	shstrlen = sh[eh->e_shstrndx].sh_size;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		struct sect *s = NULL;
		const char *n;
		if (sh[i].sh_name >= shstrlen || sh[i].sh_type == SHT_NOBITS)
			continue;
		n = shstr + sh[i].sh_name;
		if (!memchr(n, 0, shstrlen - sh[i].sh_name))
			continue;
		if (streq(n, ".debug_info"))
			s = &d->info;
		else if (streq(n, ".debug_abbrev"))
			s = &d->abbrev;
		else if (streq(n, ".debug_str"))
			s = &d->str;
		else if (streq(n, ".debug_line_str"))
			s = &d->line_str;
		else if (streq(n, ".debug_str_offsets"))
			s = &d->str_offsets;
		if (!s)
			continue;
		if ((sh[i].sh_flags & SHF_COMPRESSED) || sh[i].sh_offset > size ||
		    sh[i].sh_size > size - sh[i].sh_offset)
			return false;
		*s = (struct sect){base + sh[i].sh_offset, sh[i].sh_size};
	}
	return d->info.p && d->abbrev.p;
}

int kd_dwarf_grow_flex_struct(const char *path, const char *sname, const char *member,
			      unsigned *ret_patched, char **err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct dw d = {.ab = {.offset = (uint64_t)-1}};
	struct stat st;
	uint8_t *base;
	unsigned patched = 0;
	struct cur c;
	int r = 0;

	*ret_patched = 0;
	if (fd < 0) {
		r = -errno;
		SETERR(err, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		SETERR(err, "%s: not a regular file", path);
		return -EINVAL;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		r = -errno;
		SETERR(err, "%s: mmap: %s", path, strerror(-r));
		return r;
	}
	if (!elf_sections(base, (size_t)st.st_size, &d)) {
		SETERR(err,
		       "%s: not a 64-bit little-endian ELF file with uncompressed DWARF "
		       "(.debug_info, .debug_abbrev)",
		       path);
		r = -EINVAL;
		goto out;
	}
	c = (struct cur){d.info.p, d.info.p + d.info.len, false};
	while (c.p < c.end) {
		struct unit u = {.start = c.p};
		uint64_t len = rd(&c, 4), abbrev_off;
		u.offsize = 4;
		if (len == 0xffffffff) {
			len = rd(&c, 8);
			u.offsize = 8;
		}
		if (c.bad || len > (uint64_t)(c.end - c.p)) {
			r = -EBADMSG;
			break;
		}
		u.end = c.p + len;
		struct cur uc = {c.p, u.end, false};
		c.p = u.end;
		u.version = (unsigned)rd(&uc, 2);
		if (u.version >= 5) {
			unsigned type = (unsigned)rd(&uc, 1);
			u.addrsize = (unsigned)rd(&uc, 1);
			abbrev_off = rd(&uc, u.offsize);
			if (type == 2 || type == 6) /* type units: signature + type offset */
				skip(&uc, 8 + u.offsize);
			else if (type == 4 || type == 5) /* skeleton/split: dwo id */
				skip(&uc, 8);
		} else if (u.version >= 2) {
			abbrev_off = rd(&uc, u.offsize);
			u.addrsize = (unsigned)rd(&uc, 1);
		} else {
			r = -EBADMSG;
			break;
		}
		if (uc.bad) {
			r = -EBADMSG;
			break;
		}
		r = abbrevs_parse(&d.ab, &d.abbrev, abbrev_off);
		if (r < 0)
			break;
		r = walk_unit(&d, &u, &uc, sname, member, &patched);
		if (r < 0)
			break;
	}
	if (r == -ERANGE)
		SETERR(err, "%s: the byte size of struct %s does not fit its DWARF form", path,
		       sname);
	else if (r < 0)
		SETERR(err, "%s: malformed DWARF in .debug_info (%s)", path, strerror(-r));
	else if (patched > 0 && msync(base, (size_t)st.st_size, MS_SYNC) < 0) {
		r = -errno;
		SETERR(err, "%s: msync: %s", path, strerror(-r));
	}
out:
	abbrevs_clear(&d.ab);
	free(d.ab.v);
	munmap(base, (size_t)st.st_size);
	if (r >= 0)
		*ret_patched = patched;
	return r;
}
