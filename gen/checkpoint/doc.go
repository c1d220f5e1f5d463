// Package checkpoint reads PyTorch .pth checkpoint files, such as the MAE ViT checkpoints of
// humanlike-vits, without Python and without loading what the compiler does not need.
//
// A checkpoint is a pickle that describes the saved objects (typically {'model': state_dict,
// 'optimizer': ..., 'epoch': ..., 'scaler': ..., 'args': argparse.Namespace(...)}, or a bare state
// dict) plus the raw bytes of the tensors' storages. Tensors are pickled as calls to
// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...), and each storage as a
// persistent id ('storage', torch.FloatStorage, key, location, numel). Two layouts exist:
//
//   - zip (torch >= 1.6): a zip archive with <name>/data.pkl (the pickle) and one entry
//     <name>/data/<key> per storage. torch writes those entries uncompressed, so each storage's
//     bytes sit at a fixed offset of the file, found from the entry's local file header.
//   - legacy (torch.save(..., _use_new_zipfile_serialization=False), and torch < 1.6): five
//     pickles back to back (magic number, protocol version, sys_info, the object, the sorted list
//     of storage keys), then for each listed key an int64 element count and the raw elements.
//     Open walks the counts with seeks to find where each storage starts.
//
// The still older tar format is recognised and refused with a hint to re-save the file.
//
// Open parses only the pickle, with gopickle's unpickler and stand-ins for torch's classes:
// nothing is imported or executed, and classes it does not know (argparse.Namespace, numpy
// scalars, a script's own classes) become inert objects, so they cannot break parsing.
// Tensor.Float32 reads one tensor's bytes in place with ReadAt, between the view's first and last
// element, so the optimizer state (twice the model's size) is never read, and a slice of a large
// storage costs only its own span. Deflated zip entries, which only a re-packed file has, are
// inflated one entry at a time instead.
//
// Every input is untrusted: lengths in the pickle are checked against the bytes that remain
// before gopickle allocates them, views are checked against their storages, and every failure is
// an error that names the file, never a panic.
package checkpoint
