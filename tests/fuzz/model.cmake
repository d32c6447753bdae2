# Checkpoint readers (src/model): a safetensors file's framing, the shard index, config.json.
sg_add_fuzz_target(safetensors SOURCES fuzz_safetensors.cpp LIBS stagegate_model)
sg_add_fuzz_target(safetensors_index SOURCES fuzz_safetensors_index.cpp
                   LIBS stagegate_model nlohmann_json::nlohmann_json)
sg_add_fuzz_target(config SOURCES fuzz_config.cpp LIBS stagegate_model)
