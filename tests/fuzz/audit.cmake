# Audit plans (src/audit/plan.cpp) with every built-in detector's section.
sg_add_fuzz_target(plan SOURCES fuzz_plan.cpp
                   LIBS stagegate_audit stagegate_detectors nlohmann_json::nlohmann_json
                        PkgConfig::ZSTD)
# The family manifest (family.json) the audit, `index build --family` and policies read.
sg_add_fuzz_target(family_manifest SOURCES fuzz_family_manifest.cpp LIBS stagegate_audit)
