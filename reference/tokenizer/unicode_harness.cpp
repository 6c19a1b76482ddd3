// Prints llama.cpp's per-code-point tables (src/unicode.cpp, unicode-data.cpp) compactly, for
// src/test/resources/jllm/tokenizer/golden/llamacpp-unicode.txt:
//   F <start> <flags>         flags (category bits | 0x100 white space) from <start> up to the next F line
//   N <first> <last> <target>  the first code point of the NFD of every code point in [first, last] (if not itself)
//   L <cp> <lower>             simple lower case (if not itself)
// All numbers hexadecimal. Build: g++ -std=c++17 -O1 -I$LLAMA/src unicode_harness.cpp $LLAMA/src/unicode.cpp
// $LLAMA/src/unicode-data.cpp -o unicode_harness
#include "unicode.h"
#include <cstdio>
#include <cstdint>
#include <vector>

int main() {
    int prev = -1;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        int fl = unicode_cpt_flags_from_cpt(cp).as_uint() & 0x1FF;
        if (fl != prev) printf("F %X %X\n", cp, fl);
        prev = fl;
    }
    uint32_t first = 0, last = 0, target = 0;
    bool open = false;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        std::vector<uint32_t> v{cp};
        uint32_t nfd = unicode_cpts_normalize_nfd(v)[0];
        bool differs = nfd != cp;
        if (open && (!differs || nfd != target || cp != last + 1)) {
            printf("N %X %X %X\n", first, last, target);
            open = false;
        }
        if (differs) {
            if (!open) { first = cp; target = nfd; open = true; }
            last = cp;
        }
    }
    if (open) printf("N %X %X %X\n", first, last, target);
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        uint32_t low = unicode_tolower(cp);
        if (low != cp) printf("L %X %X\n", cp, low);
    }
    return 0;
}
