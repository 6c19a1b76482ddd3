package jllm.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jllm.format.gguf.GGUFFile;
import jllm.generate.EmbeddedModel;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jllm tokenize [-m FILE] [--no-bos] [--parse-special] [--json] TEXT}: the token ids of TEXT under the GGUF
 * file's tokenizer, as {@code [1, 2, 3]} (the format of llama.cpp's {@code llama-tokenize --ids}), or with
 * {@code --json} an object with the ids and, per token, its vocabulary text and the bytes it decodes to.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of TEXT under the tokenizer of a GGUF file.")
public final class TokenizeCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "GGUF model or vocabulary file. Default: the embedded model shipped in the jar.")
    Path model;

    @Option(names = "--no-bos", description = "Do not add the BOS/EOS tokens the vocabulary asks for.")
    boolean noBos;

    @Option(names = "--parse-special", description = "Turn control-token texts such as <|eot_id|> into those tokens.")
    boolean parseSpecial;

    @Option(names = "--json", description = "Print JSON: ids, and per token its id, text, decoded piece and bytes.")
    boolean json;

    @Parameters(index = "0", paramLabel = "TEXT", description = "The text to tokenize.")
    String text;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path path = model;
        if (path == null) {
            path = EmbeddedModel.model().orElseThrow(() -> new IllegalArgumentException(
                    "no -m given and this build has no embedded default model"));
        }
        if (!Files.isRegularFile(path)) throw new IllegalArgumentException("model file not found: " + path);
        Tokenizer tokenizer;
        try (GGUFFile file = GGUFFile.open(path)) {
            tokenizer = Tokenizers.fromGGUF(file);
        }
        int[] ids = tokenizer.encode(text, !noBos, parseSpecial);
        PrintWriter out = spec.commandLine().getOut();
        out.println(json ? json(tokenizer, ids) : idList(ids));
        out.flush();
        return 0;
    }

    /** {@code [1, 2, 3]}. */
    static String idList(int[] ids) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) sb.append(i > 0 ? ", " : "").append(ids[i]);
        return sb.append(']').toString();
    }

    static String json(Tokenizer tokenizer, int[] ids) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ArrayNode idArray = root.putArray("ids");
        for (int id : ids) idArray.add(id);
        ArrayNode tokens = root.putArray("tokens");
        for (int id : ids) {
            byte[] piece = tokenizer.decodeBytes(id);
            ObjectNode t = tokens.addObject();
            t.put("id", id);
            t.put("text", tokenizer.tokenText(id));
            t.put("type", tokenizer.tokenType(id).name());
            t.put("piece", new String(piece, StandardCharsets.UTF_8));
            ArrayNode bytes = t.putArray("bytes");
            for (byte b : piece) bytes.add(b & 0xFF);
        }
        root.put("text", tokenizer.decode(ids));
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }
}
