package io.qedfs.cli;

import picocli.CommandLine.IVersionProvider;

/** What {@code qedfs --version} prints. */
public final class Version implements IVersionProvider {
    /** Kept in step with the POM's version by hand (the POM has no resource filtering). */
    static final String VERSION = "0.1.0";

    @Override
    public String[] getVersion() {
        return new String[] {"qedfs " + VERSION};
    }
}
