// Package deps holds only a test: it checks that ecsnet's packages import
// one another in one direction (schema → plan → ecs; schema → render) and
// that only the packages meant to touch the Alibaba SDK or pflag do.
package deps
