package io.qedfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void escapesStrings() {
        assertEquals("\"a\\\"b\\\\c\\nd\\te\\u0001f\u00e9\"", Json.quote("a\"b\\c\nd\te\u0001f\u00e9"));
        assertEquals("\"\\r\\b\\f\\u001f\\u007f\\u2028\"", Json.quote("\r\b\f\u001f\u007f\u2028"));
    }

    @Test
    void laysOutLikeQemuImg() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("virtual-size", 1048576L);
        m.put("filename", "a b.qed");
        m.put("dirty-flag", false);
        m.put("none", null);
        assertEquals("{\n    \"virtual-size\": 1048576,\n    \"filename\": \"a b.qed\",\n"
                + "    \"dirty-flag\": false,\n    \"none\": null\n}", Json.render(m));
        assertEquals("[\n    {\n        \"x\": 1\n    },\n    []\n]", Json.render(List.of(Map.of("x", 1), List.of())));
        assertEquals("{}", Json.render(Map.of()));
    }
}
