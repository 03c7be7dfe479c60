package io.qedfs.qed;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * A real file's channel that runs a hook before every sync reaches the file: a test stops the engine there,
 * at a known point of an operation, and does what a concurrent request would do meanwhile.
 */
final class HookedChannel extends ForwardingChannel {
    /** Runs on the syncing thread, with the channel, before the sync. */
    interface SyncHook {
        void beforeSync(FileChannel file) throws IOException;
    }

    private volatile SyncHook hook = f -> { };

    HookedChannel(FileChannel file) {
        super(file);
    }

    void beforeSync(SyncHook h) {
        hook = h;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        hook.beforeSync(file);
        file.force(metaData);
    }
}
