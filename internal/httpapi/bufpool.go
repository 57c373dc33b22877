package httpapi

import "sync"

// bufferPool lends byte buffers for composing what is written at once and then
// forgotten (an access-log line, a response body): a request on a hot path then
// allocates none. A buffer may be given back only when nothing holds its bytes any more.
type bufferPool struct {
	pool sync.Pool
}

func newBufferPool(size int) *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any { b := make([]byte, 0, size); return &b }}}
}

// get returns an empty buffer; put(b) takes it back with what it grew to.
func (p *bufferPool) get() *[]byte {
	b := p.pool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

func (p *bufferPool) put(b *[]byte) { p.pool.Put(b) }
