package io.qedfs.cli;

import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.IHelpSectionRenderer;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Help that writes an option's value after a space ({@code -o OPTIONS}, {@code --output FMT}), as qemu-img's and
 * mount's help do, instead of picocli's {@code -o=OPTIONS}: no one types {@code -o=allow_other}. The parser keeps
 * {@code =} as its separator, so {@code --output=json} still works; only the help's rendering changes.
 */
final class SpacedLabelHelp extends Help {
    /**
     * Written between an option and its value while the help is laid out: a no-break space, so that picocli's line
     * breaking (a {@link java.text.BreakIterator}) keeps them on one line; each section turns it into a space.
     */
    private static final char GLUE = '\u00a0';

    SpacedLabelHelp(CommandSpec spec, ColorScheme colorScheme) {
        super(spec, colorScheme);
    }

    /** Makes {@code cl}'s help, and its subcommands', this one. */
    static void install(CommandLine cl) {
        cl.setHelpFactory(SpacedLabelHelp::new);
        install0(cl);
    }

    private static void install0(CommandLine cl) {
        Map<String, IHelpSectionRenderer> sections = cl.getHelpSectionMap();
        sections.replaceAll((key, section) -> help -> section.render(help).replace(GLUE, ' '));
        cl.setHelpSectionMap(sections);
        cl.getSubcommands().values().forEach(SpacedLabelHelp::install0);
    }

    /** The synopsis as the usage help and picocli's man page generator (which calls this directly) show it. */
    @Override
    public String synopsis(int synopsisHeadingLength) {
        return super.synopsis(synopsisHeadingLength).replace(GLUE, ' ');
    }

    @Override
    public IParamLabelRenderer parameterLabelRenderer() {
        IParamLabelRenderer picocli = super.parameterLabelRenderer();
        return new IParamLabelRenderer() {
            @Override
            public Ansi.Text renderParameterLabel(ArgSpec arg, Ansi ansi, List<Ansi.IStyle> styles) {
                Ansi.Text label = picocli.renderParameterLabel(arg, ansi, styles);
                return label.plainString().startsWith("=") ? ansi.new Text(String.valueOf(GLUE)).concat(label.substring(1)) : label;
            }

            @Override
            public String separator() {
                return String.valueOf(GLUE);
            }
        };
    }
}
