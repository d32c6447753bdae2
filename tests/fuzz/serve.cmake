# The server's inputs (src/serve): the API keys file, the bodies of HTTP requests.
sg_add_fuzz_target(keys SOURCES fuzz_keys.cpp LIBS stagegate_serve)
sg_add_fuzz_target(completion_request SOURCES fuzz_completion_request.cpp LIBS stagegate_serve)
