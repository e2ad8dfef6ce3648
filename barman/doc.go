// Package barman is Barman's side of the house: it reads barman.conf (with
// its configuration_files_directory, .barman.auto.conf and each server's
// active model) the way Barman 3.10 and later do, reads the servers' backup
// catalogs from disk, and runs Barman (Command). It implements the ops ports
// ops.Barman and ops.Catalog.
package barman
