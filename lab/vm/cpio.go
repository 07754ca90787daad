package vm

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Archive is an initramfs under construction: a set of files, directories and symlinks written
// as a newc cpio archive (the format the kernel unpacks, Documentation/driver-api/early-userspace).
// Parent directories are created implicitly.
type Archive struct {
	entries map[string]entry
}

type entry struct {
	mode uint32 // including the file type bits
	data []byte // file contents or symlink target
	src  string // host file to copy (instead of data)
}

const (
	modeDir  = 0o040000
	modeFile = 0o100000
	modeLink = 0o120000
)

// NewArchive returns an empty archive.
func NewArchive() *Archive { return &Archive{entries: map[string]entry{}} }

func clean(name string) (string, error) {
	n := strings.TrimPrefix(path.Clean("/"+name), "/")
	if n == "" || n == "." {
		return "", fmt.Errorf("vm: bad archive path %q", name)
	}
	return n, nil
}

func (a *Archive) add(name string, e entry) error {
	n, err := clean(name)
	if err != nil {
		return err
	}
	for d := path.Dir(n); d != "." && d != "/"; d = path.Dir(d) {
		if old, ok := a.entries[d]; ok {
			if old.mode&0o170000 != modeDir {
				return fmt.Errorf("vm: archive path %q is under non-directory %q", n, d)
			}
			continue
		}
		a.entries[d] = entry{mode: modeDir | 0o755}
	}
	a.entries[n] = e
	return nil
}

// Dir adds a directory.
func (a *Archive) Dir(name string) error { return a.add(name, entry{mode: modeDir | 0o755}) }

// File adds a file with the given contents and permission bits.
func (a *Archive) File(name string, data []byte, perm uint32) error {
	return a.add(name, entry{mode: modeFile | perm&0o7777, data: data})
}

// CopyFile adds the host file src as name (read when the archive is written).
func (a *Archive) CopyFile(name, src string, perm uint32) error {
	return a.add(name, entry{mode: modeFile | perm&0o7777, src: src})
}

// Symlink adds a symbolic link name -> target.
func (a *Archive) Symlink(name, target string) error {
	return a.add(name, entry{mode: modeLink | 0o777, data: []byte(target)})
}

// Has reports whether name is in the archive.
func (a *Archive) Has(name string) bool {
	n, err := clean(name)
	_, ok := a.entries[n]
	return err == nil && ok
}

// WriteTo writes the archive in newc format, parents before children, ending with the
// TRAILER!!! entry. open reads the host files of CopyFile entries.
func (a *Archive) WriteTo(w io.Writer, open func(string) ([]byte, error)) error {
	names := make([]string, 0, len(a.entries))
	for n := range a.entries {
		names = append(names, n)
	}
	sort.Strings(names) // a parent sorts before its children
	bw := bufio.NewWriterSize(w, 1<<20)
	ino := uint32(1)
	for _, n := range names {
		e := a.entries[n]
		data := e.data
		if e.src != "" {
			var err error
			if data, err = open(e.src); err != nil {
				return fmt.Errorf("vm: archive %s: %w", n, err)
			}
		}
		nlink := uint32(1)
		if e.mode&0o170000 == modeDir {
			nlink = 2
		}
		if err := writeEntry(bw, ino, e.mode, nlink, n, data); err != nil {
			return err
		}
		ino++
	}
	if err := writeEntry(bw, 0, 0, 1, "TRAILER!!!", nil); err != nil {
		return err
	}
	return bw.Flush()
}

func pad4(w io.Writer, n int) error {
	if r := n % 4; r != 0 {
		_, err := w.Write(make([]byte, 4-r))
		return err
	}
	return nil
}

func writeEntry(w io.Writer, ino, mode, nlink uint32, name string, data []byte) error {
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
	// rdevminor, namesize (with the NUL), check
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	if _, err := io.WriteString(w, hdr+name+"\x00"); err != nil {
		return err
	}
	if err := pad4(w, len(hdr)+len(name)+1); err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	return pad4(w, len(data))
}
