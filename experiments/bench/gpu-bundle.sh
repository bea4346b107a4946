#!/usr/bin/env bash
# Prepares experiments/bench/gpu.sh for a GPU machine that has no .NET SDK: publishes plastic self-contained
# for linux-x64 (runtime included) and packs it into .gpu/plastic.tar.xz (ignored by git), which a device
# call carries (carry: [".gpu"]) and gpu.sh unpacks. Prints the bundle's size (the carry limit is 64 MiB).
# Usage: experiments/bench/gpu-bundle.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
stage=$(mktemp -d)
dotnet publish experiments/Plastic.Cli -c Release -r linux-x64 --self-contained -o "$stage" >/dev/null
mkdir -p .gpu
tar cJf .gpu/plastic.tar.xz -C "$stage" .
# The device machine gets the working tree without .git: the bundle says which commit it was built from.
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' with uncommitted changes')" > .gpu/commit
rm -rf "$stage"
echo ".gpu/plastic.tar.xz: $(du -h .gpu/plastic.tar.xz | cut -f1)"
