package io.qedfs.qed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Our map of QEMU-made images equals qemu-img map --output=json, extent for extent. */
class MapConformanceTest {
    private static final Pattern EXTENT = Pattern.compile("\\{ \"start\": (\\d+), \"length\": (\\d+), \"depth\": (\\d+), "
            + "\"present\": (true|false), \"zero\": (true|false), \"data\": (true|false)(?:, \"offset\": (\\d+))?\\}");

    @ParameterizedTest
    @ValueSource(strings = {"empty-1g.qed", "size0.qed", "odd-size.qed", "c4k-t2.qed", "c64k-t4.qed", "over-raw.qed",
        "chain-mid.qed", "chain-top.qed", "sparse-4t.qed", "dirty.qed"})
    void mapEqualsQemuImgMap(String name) throws Exception {
        Qemu.assumeAvailable();
        Path img = Fixtures.DIR.resolve(name);
        List<Extent> expected = parse(Qemu.ok("qemu-img", "map", "-f", "qed", "--output=json", img.toString()));
        try (QedImage image = QedImage.open(img, QedOpenOptions.readOnlyOptions())) {
            assertEquals(expected, image.map());
        }
    }

    static List<Extent> parse(String json) {
        List<Extent> out = new ArrayList<>();
        Matcher m = EXTENT.matcher(json);
        while (m.find()) {
            out.add(new Extent(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Integer.parseInt(m.group(3)),
                    Boolean.parseBoolean(m.group(4)), Boolean.parseBoolean(m.group(5)), Boolean.parseBoolean(m.group(6)),
                    m.group(7) == null ? -1 : Long.parseLong(m.group(7))));
        }
        return out;
    }
}
