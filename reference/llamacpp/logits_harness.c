/*
 * logits_harness.c: a reference oracle for jllm, written against the public llama.h API of llama.cpp
 * (https://github.com/ggml-org/llama.cpp, include/llama.h; built and tested against tag b4747).
 *
 * Two modes.
 *
 *   Logits mode:   logits_harness MODEL.gguf N_PREDICT ID,ID,... [options]
 *     Evaluates the prompt ids in ONE llama_decode call (n_batch = n_ubatch = n_ctx, so llama.cpp does not
 *     split it), reads the raw logits of the last prompt position with llama_get_logits_ith, and prints
 *     them as step 0. Then it greedily decodes: the argmax of the current logits is fed back as a single
 *     token batch, and the logits after it are printed as the next step. N_PREDICT tokens are fed back,
 *     so N_PREDICT + 1 lines are printed (steps 0 .. N_PREDICT). N_PREDICT = 0 prints only the logits
 *     after the prompt. No BOS is added: the ids are evaluated exactly as given. End-of-generation tokens
 *     do not stop decoding (the line marks them with "eog":true). No sampler is involved: the argmax is
 *     taken here over the raw logits; ties go to the lowest token id.
 *
 *     Each line (stdout) is one JSON object:
 *       {"step":i,"n_past":P,"token":ARGMAX_ID,"top1":LOGIT,"top2_token":ID,"top2":LOGIT,"eog":B,
 *        "logits":[n_vocab floats]}
 *     top1 is the largest logit (that of "token"), top2 the second largest and top2_token its id, so a
 *     consumer can see how close a greedy choice was. n_past is the number of positions evaluated
 *     before these logits were read. Floats are printed with %.9g, which round-trips IEEE binary32;
 *     a non-finite value is printed as null.
 *
 *     Options: --threads T (default 2; used for both single-token and batch evaluation),
 *              --ctx N (context size; default prompt + N_PREDICT + 1, at least 64),
 *              --kv-type f16|f32 (KV-cache element type; default f16, which is llama.cpp's default),
 *              --verbose (pass llama.cpp's log through to stderr; otherwise only warnings and errors).
 *
 *   Tokenize mode: logits_harness MODEL.gguf --tokenize TEXT [--add-special 1|0] [--parse-special 0|1]
 *     Loads only the vocabulary and prints one JSON line with the ids llama_tokenize produces:
 *       {"text":"...","add_special":B,"parse_special":B,"tokens":[ids],"pieces":["..."|null]}
 *     pieces are llama_token_to_piece renderings (special tokens rendered); a piece that is not valid
 *     UTF-8 on its own (e.g. a lone byte token) is printed as null.
 *
 * Exit status: 0 on success, 2 for a usage error (message names the bad argument), 1 for a llama.cpp
 * failure (message names the call).
 */
#include "llama.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_verbose = 0;

static void log_filter(enum ggml_log_level level, const char *text, void *user_data) {
    (void) user_data;
    /* CONT continues the previous message; it is rare and only shown when verbose. */
    if (g_verbose || level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR) {
        fputs(text, stderr);
    }
}

static void usage(void) {
    fprintf(stderr,
            "usage: logits_harness MODEL.gguf N_PREDICT ID,ID,... [--threads T] [--ctx N] [--kv-type f16|f32] [--verbose]\n"
            "       logits_harness MODEL.gguf --tokenize TEXT [--add-special 1|0] [--parse-special 0|1] [--verbose]\n");
}

static void die_usage(const char *what, const char *value) {
    fprintf(stderr, "logits_harness: %s: '%s'\n", what, value);
    usage();
    exit(2);
}

static long parse_long(const char *s, long lo, long hi, const char *what) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        die_usage(what, s);
    }
    return v;
}

static bool parse_bool(const char *s, const char *what) {
    if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0) return true;
    if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0) return false;
    die_usage(what, s);
    return false;
}

/* Parses "1,450,4996" into a freshly allocated array; every id must lie in [0, n_vocab). */
static llama_token *parse_ids(const char *s, int32_t n_vocab, int32_t *n_out) {
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += (*p == ',');
    llama_token *ids = malloc(cap * sizeof *ids);
    if (ids == NULL) { fprintf(stderr, "logits_harness: out of memory\n"); exit(1); }
    char *copy = strdup(s);
    if (copy == NULL) { fprintf(stderr, "logits_harness: out of memory\n"); exit(1); }
    int32_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        ids[n++] = (llama_token) parse_long(tok, 0, (long) n_vocab - 1, "token id outside [0, n_vocab)");
    }
    if (n == 0 || (size_t) n != cap) die_usage("token id list must be non-empty, ids separated by single commas", s);
    free(copy);
    *n_out = n;
    return ids;
}

/* True if s[0..len) is well-formed UTF-8 (no truncated, overlong or surrogate sequences). */
static bool utf8_valid(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t extra;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { extra = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { extra = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { extra = 3; cp = c & 0x07; }
        else return false;
        if (i + extra >= len) return false; /* truncated sequence */
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* reject overlong forms, surrogates and values beyond U+10FFFF */
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)) return false;
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
        i += extra + 1;
    }
    return true;
}

static void print_json_string(const char *s, size_t len) {
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        switch (c) {
            case '"':  fputs("\\\"", stdout); break;
            case '\\': fputs("\\\\", stdout); break;
            case '\n': fputs("\\n", stdout); break;
            case '\r': fputs("\\r", stdout); break;
            case '\t': fputs("\\t", stdout); break;
            default:
                if (c < 0x20 || c == 0x7F) printf("\\u%04x", c);
                else putchar(c);
        }
    }
    putchar('"');
}

static void print_float(float v) {
    if (isfinite(v)) printf("%.9g", (double) v);
    else fputs("null", stdout);
}

static int run_tokenize(const char *model_path, const char *text, bool add_special, bool parse_special) {
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.vocab_only = true;
    struct llama_model *model = llama_model_load_from_file(model_path, mp);
    if (model == NULL) { fprintf(stderr, "logits_harness: llama_model_load_from_file failed for '%s'\n", model_path); return 1; }
    const struct llama_vocab *vocab = llama_model_get_vocab(model);

    size_t text_len = strlen(text);
    if (text_len > INT32_MAX / 2) die_usage("text too long", "--tokenize");
    int32_t cap = (int32_t) text_len + 8;
    llama_token *ids = malloc((size_t) cap * sizeof *ids);
    int32_t n = llama_tokenize(vocab, text, (int32_t) text_len, ids, cap, add_special, parse_special);
    if (n < 0) { /* buffer too small: -n is the required size */
        cap = -n;
        ids = realloc(ids, (size_t) cap * sizeof *ids);
        n = llama_tokenize(vocab, text, (int32_t) text_len, ids, cap, add_special, parse_special);
    }
    if (n < 0 || ids == NULL) { fprintf(stderr, "logits_harness: llama_tokenize failed (%d)\n", n); return 1; }

    fputs("{\"text\":", stdout);
    print_json_string(text, text_len);
    printf(",\"add_special\":%s,\"parse_special\":%s,\"tokens\":[", add_special ? "true" : "false",
           parse_special ? "true" : "false");
    for (int32_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", ids[i]);
    fputs("],\"pieces\":[", stdout);
    char buf[256];
    for (int32_t i = 0; i < n; i++) {
        if (i) putchar(',');
        int32_t len = llama_token_to_piece(vocab, ids[i], buf, (int32_t) sizeof buf, 0, true);
        if (len < 0 || !utf8_valid((const unsigned char *) buf, (size_t) len)) fputs("null", stdout);
        else print_json_string(buf, (size_t) len);
    }
    fputs("]}\n", stdout);

    free(ids);
    llama_model_free(model);
    return 0;
}

/* Prints one step line from the given logits row; returns the argmax (lowest id on ties). */
static llama_token print_step(int step, int n_past, const float *logits, int32_t n_vocab, const struct llama_vocab *vocab) {
    int32_t best = 0, second = -1;
    for (int32_t i = 1; i < n_vocab; i++) {
        if (logits[i] > logits[best]) { second = best; best = i; }
        else if (second < 0 || logits[i] > logits[second]) second = i;
    }
    printf("{\"step\":%d,\"n_past\":%d,\"token\":%d,\"top1\":", step, n_past, best);
    print_float(logits[best]);
    printf(",\"top2_token\":%d,\"top2\":", second);
    if (second >= 0) print_float(logits[second]); else fputs("null", stdout);
    printf(",\"eog\":%s,\"logits\":[", llama_vocab_is_eog(vocab, best) ? "true" : "false");
    for (int32_t i = 0; i < n_vocab; i++) {
        if (i) putchar(',');
        print_float(logits[i]);
    }
    fputs("]}\n", stdout);
    fflush(stdout);
    return best;
}

static int run_logits(const char *model_path, long n_predict, const char *ids_arg, int threads, long n_ctx_opt,
                      enum ggml_type kv_type) {
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *model = llama_model_load_from_file(model_path, mp);
    if (model == NULL) { fprintf(stderr, "logits_harness: llama_model_load_from_file failed for '%s'\n", model_path); return 1; }
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    const int32_t n_vocab = llama_vocab_n_tokens(vocab);

    int32_t n_prompt = 0;
    llama_token *prompt = parse_ids(ids_arg, n_vocab, &n_prompt);

    long need = (long) n_prompt + n_predict + 1;
    long n_ctx = n_ctx_opt > 0 ? n_ctx_opt : (need < 64 ? 64 : need);
    if (n_ctx < need) {
        char msg[64];
        snprintf(msg, sizeof msg, "%ld", n_ctx);
        die_usage("--ctx smaller than prompt + N_PREDICT + 1", msg);
    }

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t) n_ctx;
    cp.n_batch = (uint32_t) n_ctx;   /* the whole prompt fits in one logical batch ... */
    cp.n_ubatch = (uint32_t) n_ctx;  /* ... and in one physical batch, so it is evaluated in one graph */
    cp.n_seq_max = 1;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.type_k = kv_type;
    cp.type_v = kv_type;
    cp.flash_attn = false;
    cp.no_perf = true;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (ctx == NULL) { fprintf(stderr, "logits_harness: llama_init_from_model failed\n"); return 1; }

    fprintf(stderr, "logits_harness: n_vocab=%d n_prompt=%d n_predict=%ld n_ctx=%u threads=%d kv=%s\n", n_vocab,
            n_prompt, n_predict, llama_n_ctx(ctx), threads, kv_type == GGML_TYPE_F32 ? "f32" : "f16");

    /* The prompt: one batch, sequence 0, explicit positions, output only for the last position. */
    struct llama_batch batch = llama_batch_init(n_prompt, 0, 1);
    for (int32_t i = 0; i < n_prompt; i++) {
        batch.token[i] = prompt[i];
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = (int8_t) (i == n_prompt - 1);
    }
    batch.n_tokens = n_prompt;
    int32_t rc = llama_decode(ctx, batch);
    if (rc != 0) { fprintf(stderr, "logits_harness: llama_decode(prompt) returned %d\n", rc); return 1; }
    llama_batch_free(batch);

    const float *logits = llama_get_logits_ith(ctx, n_prompt - 1);
    if (logits == NULL) { fprintf(stderr, "logits_harness: llama_get_logits_ith(%d) returned NULL\n", n_prompt - 1); return 1; }
    int n_past = n_prompt;
    llama_token next = print_step(0, n_past, logits, n_vocab, vocab);

    struct llama_batch one = llama_batch_init(1, 0, 1);
    for (long step = 1; step <= n_predict; step++) {
        one.token[0] = next;
        one.pos[0] = n_past;
        one.n_seq_id[0] = 1;
        one.seq_id[0][0] = 0;
        one.logits[0] = 1;
        one.n_tokens = 1;
        rc = llama_decode(ctx, one);
        if (rc != 0) { fprintf(stderr, "logits_harness: llama_decode(step %ld) returned %d\n", step, rc); return 1; }
        n_past++;
        logits = llama_get_logits_ith(ctx, 0);
        if (logits == NULL) { fprintf(stderr, "logits_harness: llama_get_logits_ith(0) returned NULL at step %ld\n", step); return 1; }
        next = print_step((int) step, n_past, logits, n_vocab, vocab);
    }
    llama_batch_free(one);

    free(prompt);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}

int main(int argc, char **argv) {
    const char *positional[3] = {0};
    int n_positional = 0;
    const char *tokenize_text = NULL;
    bool add_special = true, parse_special = false;
    int threads = 2;
    long n_ctx = 0;
    enum ggml_type kv_type = GGML_TYPE_F16;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--threads") == 0 && has_value) threads = (int) parse_long(argv[++i], 1, 1024, "--threads must be in [1, 1024]");
        else if (strcmp(a, "--ctx") == 0 && has_value) n_ctx = parse_long(argv[++i], 1, 1L << 24, "--ctx must be in [1, 2^24]");
        else if (strcmp(a, "--kv-type") == 0 && has_value) {
            const char *v = argv[++i];
            if (strcmp(v, "f16") == 0) kv_type = GGML_TYPE_F16;
            else if (strcmp(v, "f32") == 0) kv_type = GGML_TYPE_F32;
            else die_usage("--kv-type must be f16 or f32", v);
        }
        else if (strcmp(a, "--tokenize") == 0 && has_value) tokenize_text = argv[++i];
        else if (strcmp(a, "--add-special") == 0 && has_value) add_special = parse_bool(argv[++i], "--add-special must be 1/0/true/false");
        else if (strcmp(a, "--parse-special") == 0 && has_value) parse_special = parse_bool(argv[++i], "--parse-special must be 1/0/true/false");
        else if (strcmp(a, "--verbose") == 0) g_verbose = 1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(); return 0; }
        else if (strncmp(a, "--", 2) == 0) die_usage("unknown option or missing value", a);
        else if (n_positional < 3) positional[n_positional++] = a;
        else die_usage("too many arguments", a);
    }

    llama_log_set(log_filter, NULL);
    llama_backend_init();
    int rc;
    if (tokenize_text != NULL) {
        if (n_positional != 1) die_usage("tokenize mode takes exactly MODEL.gguf", n_positional ? positional[n_positional - 1] : "");
        rc = run_tokenize(positional[0], tokenize_text, add_special, parse_special);
    } else {
        if (n_positional != 3) die_usage("expected MODEL.gguf N_PREDICT ID,ID,...", n_positional ? positional[n_positional - 1] : "");
        long n_predict = parse_long(positional[1], 0, 1L << 20, "N_PREDICT must be in [0, 2^20]");
        rc = run_logits(positional[0], n_predict, positional[2], threads, n_ctx, kv_type);
    }
    llama_backend_free();
    return rc;
}
