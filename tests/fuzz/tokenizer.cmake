# Tokenizer files (vocab.json + merges.txt for GPT-2 and GPT-1, BERT's vocab.txt +
# tokenizer_config.json), encoding arbitrary bytes with the committed GPT-2 and GPT-1
# tokenizers, and decoding arbitrary id lists.
foreach(name gpt2_vocab gpt1_vocab wordpiece_vocab gpt2_encode gpt1_encode decode)
  sg_add_fuzz_target(${name} SOURCES fuzz_${name}.cpp LIBS stagegate_tokenizer)
endforeach()
