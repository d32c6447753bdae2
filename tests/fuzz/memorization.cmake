# Corpus indexes (.sgidx): the reader on crafted files, and the builder and reader together
# against a brute-force scan.
sg_add_fuzz_target(corpus_index SOURCES fuzz_corpus_index.cpp LIBS stagegate_corpus_index)
