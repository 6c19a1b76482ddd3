package jllm.estimate;

import java.text.MessageFormat;
import java.util.List;
import java.util.Locale;
import java.util.MissingResourceException;
import java.util.ResourceBundle;

/**
 * The planner's words in English ({@code messages.properties}) and Chinese ({@code messages_zh.properties}):
 * step titles and formulas, table labels, warnings and notes. Numbers are formatted by {@link Units} and stay
 * language-neutral. Bundles are read as UTF-8 (Java 9+ property resource bundles).
 */
public final class Messages {
    private final ResourceBundle bundle;
    private final String lang;

    private Messages(ResourceBundle bundle, String lang) {
        this.bundle = bundle;
        this.lang = lang;
    }

    /** Messages for {@code lang}: {@code en} or {@code zh}. */
    public static Messages of(String lang) {
        String l = lang == null ? "en" : lang.toLowerCase(Locale.ROOT);
        Locale locale = switch (l) {
            case "en" -> Locale.ROOT;
            case "zh", "zh-cn", "zh_cn", "cn" -> Locale.SIMPLIFIED_CHINESE;
            default -> throw new IllegalArgumentException("unsupported --lang '" + lang + "' (en or zh)");
        };
        ResourceBundle b = ResourceBundle.getBundle("jllm.estimate.messages", locale,
                ResourceBundle.Control.getNoFallbackControl(ResourceBundle.Control.FORMAT_PROPERTIES));
        return new Messages(b, locale == Locale.ROOT ? "en" : "zh");
    }

    public String lang() {
        return lang;
    }

    /** True when the bundle has {@code key}. */
    public boolean has(String key) {
        return bundle.containsKey(key);
    }

    /** The text for {@code key} with {@code args} put in ({0}, {1}, ...). */
    public String text(String key, List<String> args) {
        String pattern;
        try {
            pattern = bundle.getString(key);
        } catch (MissingResourceException ex) {
            throw new IllegalStateException("message '" + key + "' missing for language " + lang, ex);
        }
        if (args.isEmpty()) return pattern.replace("''", "'");
        return new MessageFormat(pattern, Locale.ROOT).format(args.toArray());
    }

    public String text(String key, String... args) {
        return text(key, List.of(args));
    }
}
