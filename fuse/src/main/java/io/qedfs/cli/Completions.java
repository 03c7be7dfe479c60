package io.qedfs.cli;

import java.util.Iterator;
import java.util.List;

/**
 * What bash completion offers for option values, spelled as users type them (picocli would offer enum
 * constants in upper case, and {@code check -r} would offer NONE, which it refuses).
 */
final class Completions {
    private Completions() {
    }

    /** A fixed list of words; picocli instantiates the subclasses named in {@code completionCandidates}. */
    private abstract static class Words implements Iterable<String> {
        private final List<String> words;

        Words(String... words) {
            this.words = List.of(words);
        }

        @Override
        public Iterator<String> iterator() {
            return words.iterator();
        }
    }

    static final class OutputFormats extends Words {
        OutputFormats() {
            super("human", "json");
        }
    }

    static final class RepairModes extends Words {
        RepairModes() {
            super("leaks", "all");
        }
    }

    static final class CheckPolicies extends Words {
        CheckPolicies() {
            super("auto", "always", "never");
        }
    }

    static final class ImageFormats extends Words {
        ImageFormats() {
            super("raw", "qed");
        }
    }
}
