sg_add_fuzz_target(ini SOURCES fuzz_ini.cpp LIBS stagegate_common)
