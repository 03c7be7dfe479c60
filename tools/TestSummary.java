import java.io.File;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * What {@code make test} ran: per report directory (module and kind: unit tests by surefire, mount tests by
 * failsafe) the tests run, failed and skipped, each skipped test with the reason its assumption gave, each
 * failed one by name, and a closing line {@code total: N passed, N failed, N skipped}. Reads the JUnit XML
 * reports the two plugins write; run as {@code java tools/TestSummary.java DIR...} (no build needed).
 */
public final class TestSummary {
    private int run;
    private int failed;
    private int skipped;
    private final List<String> skips = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        TestSummary total = new TestSummary();
        System.out.println();
        System.out.println("Test summary");
        for (String dir : args) {
            File[] reports = new File(dir).listFiles((d, name) -> name.startsWith("TEST-") && name.endsWith(".xml"));
            if (reports == null || reports.length == 0) {
                System.out.printf("  %-32s no reports (not run)%n", label(dir));
                continue;
            }
            TestSummary part = new TestSummary();
            for (File report : reports) {
                part.read(report);
            }
            System.out.printf("  %-32s %5d run, %d failed, %d skipped%n", label(dir), part.run, part.failed, part.skipped);
            part.failures.stream().sorted().forEach(f -> System.out.println("      FAILED  " + f));
            part.skips.stream().sorted().forEach(s -> System.out.println("      skipped " + s));
            total.run += part.run;
            total.failed += part.failed;
            total.skipped += part.skipped;
        }
        System.out.printf("total: %d passed, %d failed, %d skipped%n", total.run - total.failed - total.skipped,
                total.failed, total.skipped);
    }

    /** "qed/target/surefire-reports" -> "qed, unit tests (surefire)". */
    private static String label(String dir) {
        String module = dir.replaceAll("/target/.*", "");
        String kind = !dir.contains("failsafe") ? "unit tests (surefire)"
                : module.equals("qed") ? "library tests (failsafe)" : "mount tests (failsafe)";
        return module + ", " + kind + ":";
    }

    private void read(File report) throws Exception {
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(report);
        NodeList cases = doc.getElementsByTagName("testcase");
        for (int i = 0; i < cases.getLength(); i++) {
            Element c = (Element) cases.item(i);
            run++;
            String name = simpleName(c.getAttribute("classname")) + "." + c.getAttribute("name");
            Element skip = child(c, "skipped");
            Element failure = child(c, "failure") != null ? child(c, "failure") : child(c, "error");
            if (skip != null) {
                skipped++;
                String reason = skip.getAttribute("message").replaceFirst("^Assumption failed: ", "");
                skips.add(name + ": " + (reason.isEmpty() ? "(no reason given)" : reason));
            } else if (failure != null) {
                failed++;
                String message = failure.getAttribute("message").lines().findFirst().orElse("");
                failures.add(name + (message.isEmpty() ? "" : ": " + message));
            }
        }
    }

    private static Element child(Element parent, String tag) {
        NodeList l = parent.getElementsByTagName(tag);
        return l.getLength() == 0 ? null : (Element) l.item(0);
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }
}
