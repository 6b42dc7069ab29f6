#!/bin/bash
# The KVM probe: a stand-in /dev/kvm and a stand-in QEMU that hangs like nested KVM does
# here (no console output) -> "tcg" with the reason, cached per host; a stand-in QEMU that
# writes to its serial file -> "kvm".
set -u
. "$KDRILL_TOP/tests/lib/vm.sh"
vm_require

export KDRILL_CACHE=$KDRILL_TMP/cache KDRILL_KVM_DEV=/dev/null
mkdir -p "$KDRILL_TMP/fake" "$KDRILL_CACHE"
# kernel refs resolve through the real cache: reuse it read-only via a path: ref
vmlinuz=$(HOME=$HOME KDRILL_CACHE= "$KDRILL_BIN/kdrill" kernel fetch "$VM_KERNEL" | awk '{print $3}')/boot/vmlinuz-6.1.0-54-cloud-amd64
[ -f "$vmlinuz" ] || fail "no kernel"

cat >"$KDRILL_TMP/fake/qemu-system-x86_64" <<'EOS'
#!/bin/bash
exec sleep 60
EOS
chmod +x "$KDRILL_TMP/fake/qemu-system-x86_64"
t0=$SECONDS
PATH=$KDRILL_TMP/fake:$PATH kd vm probe-kvm --kernel "path:$vmlinuz" >"$KDRILL_TMP/out" 2>&1 || fail "probe exit $?"
cat "$KDRILL_TMP/out"
grep -q '^tcg (KVM probe: no console output within 10 s' "$KDRILL_TMP/out" || fail "hang not detected"
[ $((SECONDS - t0)) -le 20 ] || fail "probe took $((SECONDS - t0)) s"
PATH=$KDRILL_TMP/fake:$PATH kd vm probe-kvm --kernel "path:$vmlinuz" >"$KDRILL_TMP/out" 2>&1
grep -q '^answer from the cache' "$KDRILL_TMP/out" || fail "answer not cached"

cat >"$KDRILL_TMP/fake/qemu-system-x86_64" <<'EOS'
#!/bin/bash
# write "Linux version" to the -serial file:PATH argument, then idle
while [ $# -gt 0 ]; do [ "$1" = -serial ] && f=${2#file:}; shift; done
echo "Linux version fake" >"$f"
exec sleep 60
EOS
PATH=$KDRILL_TMP/fake:$PATH kd vm probe-kvm --force --kernel "path:$vmlinuz" >"$KDRILL_TMP/out" 2>&1 || fail "probe exit $?"
cat "$KDRILL_TMP/out"
grep -q '^kvm$' "$KDRILL_TMP/out" || fail "working KVM not detected"
echo ok
