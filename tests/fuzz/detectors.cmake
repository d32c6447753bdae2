# Detector inputs (detectors/): the JSON-lines readers, plain and zstd-compressed.
sg_add_fuzz_target(jsonl SOURCES fuzz_jsonl.cpp
                   LIBS stagegate_detector_seam stagegate_capability stagegate_toxicity stagegate_repetition
                        stagegate_memorization stagegate_corpus_index
                        nlohmann_json::nlohmann_json PkgConfig::ZSTD)
