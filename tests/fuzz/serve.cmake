# The server's inputs (src/serve): the API keys file.
sg_add_fuzz_target(keys SOURCES fuzz_keys.cpp LIBS stagegate_serve)
