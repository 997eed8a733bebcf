#!/usr/bin/env bash
# Package the iam-auditor binary as a Lambda zip for the provided.al2023 runtime: one file,
# `bootstrap`, mode 0755. Checks first that the binary can run there: an ELF executable
# for x86_64 or arm64 (printed: pass it as the stack's Architecture parameter) that needs
# no newer glibc than Amazon Linux 2023's 2.34 (a static, e.g. musl, binary needs none).
#
#   cargo build --release --locked
#   deploy/lambda/make-zip.sh [BINARY] [OUT.zip]
#       BINARY   default target/release/iam-auditor
#       OUT.zip  default target/lambda/iam-auditor-<version>-<arch>.zip
#
# The zip is reproducible (fixed timestamp, no extra attributes), so its sha256 identifies
# the binary; the script prints both.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

AL2023_GLIBC=2.34
bin="${1:-target/release/iam-auditor}"
[[ -f "$bin" && -x "$bin" ]] || { echo "make-zip: $bin is not an executable file (cargo build --release --locked first)" >&2; exit 1; }

machine="$(readelf --file-header -- "$bin" 2>/dev/null | sed -n 's/^ *Machine: *//p')"
case "$machine" in
    *X86-64*) arch=x86_64 ;;
    *AArch64*) arch=arm64 ;;
    *) echo "make-zip: $bin is not an x86_64 or arm64 ELF executable (machine: ${machine:-unknown})" >&2; exit 1 ;;
esac

# The newest GLIBC_x.y symbol version the binary needs (none for a static binary).
needed="$(objdump -T -- "$bin" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1 || true)"
if [[ -n "$needed" ]] && [[ "$(printf '%s\n%s\n' "$needed" "$AL2023_GLIBC" | sort -V | tail -n 1)" != "$AL2023_GLIBC" ]]; then
    echo "make-zip: $bin needs glibc $needed, Amazon Linux 2023 has $AL2023_GLIBC: the function would fail to start." >&2
    echo "          Build it where glibc <= $AL2023_GLIBC, or statically (e.g. --target ${arch/arm64/aarch64}-unknown-linux-musl)." >&2
    exit 1
fi

version="$("$bin" --version 2>/dev/null | awk '{print $NF}' || true)"
out="${2:-target/lambda/iam-auditor-${version:-unknown}-$arch.zip}"
mkdir -p -- "$(dirname -- "$out")"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
install -m 0755 -- "$bin" "$stage/bootstrap"
touch -d '2000-01-01T00:00:00Z' "$stage/bootstrap"
rm -f -- "$out"
(cd "$stage" && TZ=UTC zip -q -X -9 "bootstrap.zip" bootstrap)
mv -- "$stage/bootstrap.zip" "$out"

echo "make-zip: $out"
echo "  Architecture=$arch, glibc needed: ${needed:-none (static)} (Amazon Linux 2023: $AL2023_GLIBC)"
echo "  sha256 $(sha256sum -- "$out" | cut -d' ' -f1)"
