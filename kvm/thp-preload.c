// SPDX-License-Identifier: GPL-2.0
/*
 * thp-preload.so: transparent huge pages for the compilers of a kernel build.
 *
 * kvm/kbuild-make preloads it (LD_PRELOAD) into make and everything make runs.  It
 * interposes mmap(): an anonymous private mapping of at least 2 MiB that the caller
 * lets the kernel place is placed at a 2 MiB boundary and marked MADV_HUGEPAGE.  gcc's
 * garbage-collected heap grows in such mappings (2 MiB quires of ggc-page); glibc's
 * malloc arenas are covered by GLIBC_TUNABLES=glibc.malloc.hugetlb=1, which kbuild-make
 * sets beside it.  With the host's THP setting at "madvise" (Debian's default), cc1 then
 * runs on huge pages: in a virtual machine every 4 KiB page fault and TLB miss is costly,
 * and a kernel object compiles in ~20% less time here (docs/vm.md).  With THP "never" the
 * advice is ignored and nothing changes; what is built never changes.
 *
 * Nothing else is touched: file mappings, shared mappings, MAP_FIXED and hinted mappings
 * go to mmap() as they came.  The mapping has the length asked for; the extra 2 MiB
 * reserved for the alignment is unmapped again at once.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>

#define HUGE_SIZE (2UL << 20)

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

static void *huge_mmap(mmap_fn *real, const char *name, void *addr, size_t len, int prot, int flags,
		       int fd, off_t off)
{
	size_t n;
	char *p, *a;

	if (!*real) {
		*real = (mmap_fn)dlsym(RTLD_NEXT, name);
		if (!*real) {
			errno = ENOSYS;
			return MAP_FAILED;
		}
	}
	if (addr || len < HUGE_SIZE || !(flags & MAP_ANONYMOUS) || !(flags & MAP_PRIVATE) ||
	    (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_HUGETLB)))
		return (*real)(addr, len, prot, flags, fd, off);
	n = len + HUGE_SIZE;
	if (n < len)
		return (*real)(addr, len, prot, flags, fd, off);
	p = (*real)(NULL, n, prot, flags, fd, off);
	if (p == MAP_FAILED)
		return p;
	a = (char *)(((uintptr_t)p + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + n > a + len)
		munmap(a + len, (size_t)(p + n - (a + len)));
	madvise(a, len, MADV_HUGEPAGE);
	return a;
}

/* both names: a program built with _FILE_OFFSET_BITS=64 calls mmap64 (the same call on
 * x86_64, where off_t is 64 bits) */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static mmap_fn real;
	return huge_mmap(&real, "mmap", addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	static mmap_fn real;
	return huge_mmap(&real, "mmap64", addr, len, prot, flags, fd, (off_t)off);
}
