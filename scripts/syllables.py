#!/usr/bin/env python3
"""Writes src/ingest/syllables.txt: every syllable of the bundled national place names (2019 census
units, districts and provinces; 2025 wards) plus the words of neighbourhood and team names, in
lowercase NFC, one per line. The .dbf text-encoding detector scores candidate decodings by how
many of their words are in this list (see src/ingest/legacy_text.rs)."""
import csv, json, re, unicodedata, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
words = set()
def add(text):
    for w in re.findall(r"[^\W\d_]+", unicodedata.normalize("NFC", text or "").lower()):
        if not w.isascii():
            words.add(w)
with open(root / "data/national/vietnam_wards_2019_census.csv", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        for k in ("province_name", "district_name_2019", "full_name_2019", "full_name_2024", "district_name_2024"):
            add(row.get(k))
for feat in json.load(open(root / "data/national/vietnam_wards_2025.geojson", encoding="utf-8"))["features"]:
    p = feat["properties"]
    for k in ("full_name", "province_name", "formed_from"):
        add(p.get(k))
# Words of neighbourhood, residential-group and team names that place names may lack.
add("khu phố ấp thôn xóm bản buôn làng khóm tổ dân phố đội nhóm số liên gia tự quản cụm "
    "thị trấn xã phường đặc khu huyện quận thành tỉnh công nghệ cộng đồng thanh niên tình nguyện "
    "đoàn hội phụ nữ cựu chiến binh mặt trận đường hẻm ngõ ngách kiệt chợ")
out = root / "src/ingest/syllables.txt"
out.write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
print(f"{len(words)} syllables -> {out}")
