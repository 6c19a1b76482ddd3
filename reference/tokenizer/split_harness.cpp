// Prints llama.cpp's pre-tokenizer split (unicode_regex_split with the regex list of the vocab's pre type)
// for every case of an .inp file: one line per case, the pieces' lengths in codepoints, space-separated.
#include "llama-vocab.cpp"
#include "llama.h"
#include <cstdio>
#include <fstream>
#include <sstream>

int main(int argc, char ** argv) {
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    const llama_vocab * vocab = llama_model_get_vocab(model);
    llm_tokenizer_bpe tok(*vocab);
    std::ifstream f(argv[2], std::ios::binary);
    std::stringstream ss; ss << f.rdbuf();
    std::string raw = ss.str();
    const std::string sep = "\n__ggml_vocab_test__\n";
    size_t pos = 0;
    while (pos < raw.size()) {
        size_t next = raw.find(sep, pos);
        std::string text = next == std::string::npos ? raw.substr(pos) : raw.substr(pos, next - pos);
        auto words = unicode_regex_split(text, tok.regex_exprs);
        for (auto & w : words) {
            // words are byte-encoded; count codepoints of the decoded utf-8
            std::string dec;
            for (auto c : unicode_cpts_from_utf8(w)) dec += (char) unicode_utf8_to_byte(unicode_cpt_to_utf8(c));
            printf(" %zu", unicode_cpts_from_utf8(dec).size());
        }
        printf("\n");
        if (next == std::string::npos) break;
        pos = next + sep.size();
    }
    return 0;
}
