# Release policies (src/release/policy.cpp) and the family manifest they name.
sg_add_fuzz_target(policy SOURCES fuzz_policy.cpp LIBS stagegate_release)
