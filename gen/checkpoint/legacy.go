package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/nlpodyssey/gopickle/types"
)

// legacyMagic is the first pickle of a legacy file, torch.serialization.MAGIC_NUMBER.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// legacyVersion is the second pickle, torch.serialization.PROTOCOL_VERSION.
const legacyVersion = 1001

// openLegacy reads the format of torch.save(..., _use_new_zipfile_serialization=False): five
// pickles back to back (magic number, protocol version, sys_info, the object, the list of storage
// keys), then for each key in that list an int64 element count and the raw elements. Only the
// counts are read, to find where each storage starts.
func (c *Checkpoint) openLegacy(size int64, head []byte) error {
	magic, pos, err := loadPickle(c.src.ra, 0, size, nil)
	if m, ok := magic.(*big.Int); err != nil || !ok || m.Cmp(legacyMagic) != 0 {
		return c.errorf("not a PyTorch checkpoint: neither a zip archive nor a legacy torch.save file "+
			"(it starts with bytes %s)", headPreview(head))
	}
	fail := func(what string, err error) error {
		return c.errorf("legacy checkpoint: %s: %w", what, err)
	}
	version, pos, err := loadPickle(c.src.ra, pos, size, nil)
	if err != nil {
		return fail("protocol version", err)
	}
	if v, ok := version.(int); !ok || v != legacyVersion {
		return c.errorf("legacy checkpoint of protocol version %s; only %d is supported", describe(version), legacyVersion)
	}
	sysInfo, pos, err := loadPickle(c.src.ra, pos, size, nil)
	if err != nil {
		return fail("sys_info", err)
	}
	if entries, ok := dictEntries(sysInfo); ok {
		for _, e := range entries {
			if e.Key == "little_endian" && e.Value == false {
				return c.errorf("saved on a big-endian machine: only little-endian checkpoints are supported")
			}
		}
	}
	var reg registry
	top, pos, err := loadPickle(c.src.ra, pos, size, reg.persistentLoad)
	if err != nil {
		return fail("object pickle", err)
	}
	keysObj, pos, err := loadPickle(c.src.ra, pos, size, nil)
	if err != nil {
		return fail("storage key list", err)
	}
	keyList, ok := keysObj.(*types.List)
	if !ok {
		return c.errorf("legacy checkpoint: storage key list is %s, not a list", describe(keysObj))
	}
	c.legacy = make(map[string]section, len(*keyList))
	var count [8]byte
	for _, k := range *keyList {
		key, ok := k.(string)
		if !ok {
			return c.errorf("legacy checkpoint: storage key is %s, not a str", describe(k))
		}
		st := reg.byKey[key]
		if st == nil {
			return c.errorf("legacy checkpoint: storage %q is listed but no tensor uses it", key)
		}
		if st.elemSize == 0 {
			return c.errorf("legacy checkpoint: storage %q is a %s, whose element size is unknown, "+
				"so the storages after it cannot be found", key, st.class)
		}
		if size-pos < 8 {
			return c.errorf("legacy checkpoint: file ends before storage %q (truncated?)", key)
		}
		if _, err := c.src.ra.ReadAt(count[:], pos); err != nil {
			return fail(fmt.Sprintf("storage %q", key), err)
		}
		pos += 8
		n := int64(binary.LittleEndian.Uint64(count[:]))
		if n < 0 || n > (size-pos)/int64(st.elemSize) {
			return c.errorf("legacy checkpoint: storage %q announces %d elements of %d bytes, but the file "+
				"ends %d bytes later (truncated?)", key, n, st.elemSize, size-pos)
		}
		c.legacy[key] = section{pos, n * int64(st.elemSize)}
		pos += n * int64(st.elemSize)
	}
	return c.fill(top, func(st *storage) error {
		s, ok := c.legacy[st.key]
		if !ok {
			return fmt.Errorf("storage %q is missing from the file's storage list", st.key)
		}
		st.offset, st.size = s.offset, s.size
		return nil
	})
}
