package io.qedfs.qed;

/**
 * The parts of an open image behind its facade, handed as one to the tools that change the image as a whole
 * (commit, rebase, resize): the facade itself for reads and writes that take its usual path, the metadata for
 * lookups and table changes, the write path for marking the image dirty, and the backing file (null without one).
 */
record ImageEngine(QedImage image, ImageMetadata meta, WritePath writes, Backing backing) {
}
