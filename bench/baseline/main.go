// Command baseline is the yardstick of bench/run: a bare net/http server
// answering every request with the same 60-byte JSON body, measured the
// same way as pg-backup-api serve in the same run.
//
//	go run ./bench/baseline -listen 127.0.0.1:7481
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
)

// body is exactly 60 bytes, about what GET /servers/NAME/operations/ID answers.
var body = []byte(`{"operation_id": "20261125T000000", "status": "DONE", "x":1}`)

func main() {
	listen := flag.String("listen", "127.0.0.1:7481", "`ADDR` to listen on")
	flag.Parse()
	if len(body) != 60 {
		panic("baseline body is " + strconv.Itoa(len(body)) + " bytes, want 60")
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	if err := http.ListenAndServe(*listen, nil); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}
