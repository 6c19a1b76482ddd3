package jllm.train;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads the small F32 safetensors golden files of reference/torch/make_golden.py (format: u64 little-endian header
 * length, JSON header {name: {dtype, shape, data_offsets}, __metadata__: {key: string}}, raw little-endian data).
 */
final class Safetensors {
    static final ObjectMapper JSON = new ObjectMapper();

    final Map<String, float[]> tensors = new LinkedHashMap<>();
    final Map<String, JsonNode> metadata = new LinkedHashMap<>();

    static Safetensors read(String resource) throws IOException {
        try (InputStream in = Safetensors.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing golden file " + resource + " (made by reference/torch/make_golden.py)");
            byte[] all = in.readAllBytes();
            ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            int n = Math.toIntExact(bb.getLong(0));
            JsonNode header = JSON.readTree(new String(all, 8, n, java.nio.charset.StandardCharsets.UTF_8));
            Safetensors s = new Safetensors();
            for (var it = header.fields(); it.hasNext(); ) {
                var e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    for (var m = e.getValue().fields(); m.hasNext(); ) {
                        var kv = m.next();
                        s.metadata.put(kv.getKey(), JSON.readTree(kv.getValue().asText()));
                    }
                    continue;
                }
                if (!e.getValue().get("dtype").asText().equals("F32")) throw new IllegalStateException(e.getKey() + " is not F32");
                long from = e.getValue().get("data_offsets").get(0).asLong(), to = e.getValue().get("data_offsets").get(1).asLong();
                float[] f = new float[Math.toIntExact((to - from) / 4)];
                bb.position(Math.toIntExact(8 + n + from));
                bb.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
                s.tensors.put(e.getKey(), f);
            }
            return s;
        }
    }

    /** The tensors whose names start with prefix, with the prefix removed (copies). */
    Map<String, float[]> group(String prefix) {
        Map<String, float[]> m = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (k.startsWith(prefix)) m.put(k.substring(prefix.length()), v.clone());
        });
        return m;
    }
}
