package ops

// MaxArgBytes is maxArgBytes for the tests of package ops_test.
const MaxArgBytes = maxArgBytes

// ReservedKeys is reservedKeys for the tests of package ops_test.
var ReservedKeys = reservedKeys
